#!/usr/bin/env node
// Runs the sandbox on its own: `pnpm --filter @adsync/sandbox start` (or node packages/sandbox/src/main.ts).
import { z } from 'zod';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';
import { startSandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from './amazon/gateway.ts';

const cfg = loadConfig(
  {
    SANDBOX_HOST: z.string().default('127.0.0.1'),
    SANDBOX_PORT: port.default(18900),
    SANDBOX_SEED: z.coerce.number().int().default(42),
    SANDBOX_PROFILES: positiveInt.default(2),
    SANDBOX_CAMPAIGNS_PER_PROFILE: positiveInt.default(4),
    SANDBOX_REPORT_GENERATION_MS: z.coerce.number().int().min(0).default(2000),
    SANDBOX_SUPPLIER_PRODUCTS: positiveInt.default(250),
    /** The SQS endpoint Marketing Stream subscriptions deliver to (ElasticMQ in the stack); empty: subscriptions fail provisioning. */
    SANDBOX_SQS_ENDPOINT: z.string().default(''),
    /** The base URL services reach the sandbox at (compose: http://sandbox:18900), for download and confirmation URLs. */
    SANDBOX_PUBLIC_URL: z.string().default(''),
    /** Any scale field as JSON, e.g. {"keywordsPerAdGroup":80}; wins over the two above. */
    SANDBOX_SCALE: z
      .string()
      .default('{}')
      .transform((s, ctx) => {
        try {
          return JSON.parse(s) as Record<string, number>;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected a JSON object of scale fields' });
          return z.NEVER;
        }
      }),
  },
  process.env,
);
const sandbox = await startSandbox({
  sqsEndpoint: cfg.SANDBOX_SQS_ENDPOINT || undefined,
  publicUrl: cfg.SANDBOX_PUBLIC_URL || undefined,
  host: cfg.SANDBOX_HOST,
  port: cfg.SANDBOX_PORT,
  seed: cfg.SANDBOX_SEED,
  scale: {
    profiles: cfg.SANDBOX_PROFILES,
    campaignsPerProfile: cfg.SANDBOX_CAMPAIGNS_PER_PROFILE,
    ...cfg.SANDBOX_SCALE,
  },
  faults: { reportGenerationMs: cfg.SANDBOX_REPORT_GENERATION_MS },
});
sandbox.state.supplierScale = { ...sandbox.state.supplierScale, products: cfg.SANDBOX_SUPPLIER_PRODUCTS };
console.log(`adsync sandbox listening on ${sandbox.url}
  Login with Amazon  POST ${sandbox.url}/auth/o2/token   client_id=${SANDBOX_CLIENT_ID} client_secret=${SANDBOX_CLIENT_SECRET}
                     refresh_token=${SANDBOX_REFRESH_TOKEN} (any "Atzr|…" works until revoked)
  Amazon Ads API     ${sandbox.url}/v2/profiles, /sp/campaigns/list, /reporting/reports, …
  control            ${sandbox.url}/_sandbox/health | faults | totals | stats`);
const stop = () => sandbox.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
