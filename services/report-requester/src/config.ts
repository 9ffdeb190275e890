import { z } from 'zod';
import { baseConfigShape } from '@adsync/shared/config/base-config';
import { loadConfig, port, positiveInt } from '@adsync/shared/config/load-config';
import { DEFAULT_REPORT_TYPE_IDS, REPORT_TYPE_IDS } from '@adsync/shared/amazon/report-catalog';
import { parseTiers } from '@adsync/shared/reports/report-plan';

export const requesterConfigShape = {
  ...baseConfigShape,
  REPORT_REQUESTER_HOST: z.string().default('127.0.0.1'),
  REPORT_REQUESTER_PORT: port.default(8082),
  /** Report types requested for every profile (by default all but the DSP breakdowns, which are asked when named). */
  REPORT_TYPES: z
    .string()
    .default(DEFAULT_REPORT_TYPE_IDS.join(','))
    .transform((s, ctx) => {
      const list = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const bad = list.filter((x) => !REPORT_TYPE_IDS.includes(x));
      if (bad.length)
        ctx.addIssue({
          code: 'custom',
          message: `unknown report types ${bad.join(', ')}; known: ${REPORT_TYPE_IDS.join(', ')}`,
        });
      return list;
    }),
  /** Restatement tiers, name:fromDaysAgo-toDaysAgo:everyDays. */
  REPORT_TIERS: z
    .string()
    .default('recent:3-1:1,day7:7-7:1,lookback:42-1:7')
    .transform((s, ctx) => {
      try {
        return parseTiers(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  REPORT_PROFILE_CONCURRENCY: positiveInt.default(4),
  /**
   * The file format DSP reports are asked in: GZIP_JSON, or CSV (smaller; Amazon offers both for
   * DSP). Sponsored-ads reports are GZIP_JSON, the only format Amazon gives them.
   */
  DSP_REPORT_FORMAT: z.enum(['GZIP_JSON', 'CSV']).default('GZIP_JSON'),
};

export type RequesterConfig = z.infer<z.ZodObject<typeof requesterConfigShape>>;
export const loadRequesterConfig = (env: Record<string, string | undefined> = process.env): RequesterConfig =>
  loadConfig(requesterConfigShape, env);
