/**
 * Every service's HTTP API in one process, on one fresh database, with two tenants
 * (accounts A and B) that each own one of everything a route can name: profiles, a
 * supplier, a job, a webhook, a marketplace integration, an AMC instance, workflow and
 * execution, a sync batch, an ingestion run and a report run. The isolation, bad-input
 * and fuzz suites stand on it. The APIs are registered exactly as each main.ts does;
 * the background loops are not started (these suites judge what a request does).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startSandbox, SANDBOX_ACCOUNT_CREDENTIALS, type Sandbox } from '@adsync/sandbox';
import { migrateClickHouse, migratePostgres } from '@adsync/shared/db/migrations';
import { createSecretBox } from '@adsync/shared/crypto/secret-box';
import { AmazonClients, storeCredentials } from '@adsync/shared/amazon/account-clients';
import { createApiKey, ensureAdminKey } from '@adsync/shared/http/api-keys';
import {
  freshClickHouse,
  freshPostgres,
  testLogger,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { createJob } from '@adsync/supplier-sync/job-queue';
import { closeThenDrop } from '@adsync/shared/testing/teardown';
import { registerServiceApis, SERVICES, type Service } from './service-apis.ts';

export { SERVICES, type Service } from './service-apis.ts';

/** What one tenant owns, by the kind of id a route names. */
export interface Tenant {
  accountId: string;
  key: string;
  profileId: string;
  dspAdvertiserId: string;
  supplierId: string;
  jobId: string;
  webhookId: string;
  integrationId: string;
  listingId: string;
  instanceId: string;
  workflowId: string;
  scheduleId: string;
  executionId: string;
  streamSubscriptionId: string;
  syncBatchId: string;
  ingestionRunId: string;
  reportRunId: string;
  pendingReportId: string;
}

export interface ServiceApps {
  apps: Record<Service, FastifyInstance>;
  /** Base URLs, once `listen()` was called. */
  urls: Record<Service, string>;
  adminKey: string;
  a: Tenant;
  b: Tenant;
  pg: FreshPostgres;
  ch: FreshClickHouse;
  sandbox: Sandbox;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export async function startServiceApps(): Promise<ServiceApps> {
  const log = testLogger('apps');
  const sandbox = await startSandbox({ seed: 5, scale: { profiles: 1, campaignsPerProfile: 2 } });
  const pg = await freshPostgres();
  const ch = await freshClickHouse();
  await migratePostgres(pg.db);
  await migrateClickHouse(ch.ch);
  const adminKey = `adsk_${randomBytes(24).toString('base64url')}`;
  await ensureAdminKey(pg.db, adminKey);
  const box = createSecretBox(randomBytes(32));
  const clients = new AmazonClients({ db: pg.db, box, log, baseUrl: sandbox.url });
  const db = pg.db;

  const { apps, close: closeApis } = await registerServiceApis({
    db,
    ch: ch.ch,
    box,
    clients,
    log,
    amazonBaseUrl: sandbox.url,
    // Every API call here goes to the one database; the sandbox is the only outside origin.
    trustedOrigins: [new URL(sandbox.url).origin],
  });

  const tenant = async (name: string, n: number): Promise<Tenant> => {
    const [{ id: accountId }] = await db('accounts')
      .insert({ company_name: `tenant ${name}` })
      .returning('id');
    await storeCredentials(db, box, accountId, SANDBOX_ACCOUNT_CREDENTIALS);
    const key = (await createApiKey(db, { scope: 'account', accountId }, `tenant ${name}`)).key;
    const profileId = `90000000000${n}`;
    await db('profiles').insert({
      profile_id: profileId,
      account_id: accountId,
      country_code: 'US',
      currency_code: 'USD',
      timezone: 'UTC',
    });
    const dspAdvertiserId = `70000000000${n}`;
    await db('dsp_advertisers').insert({ advertiser_id: dspAdvertiserId, account_id: accountId, name: `${name} DSP` });
    await db('dsp_entities').insert({
      advertiser_id: dspAdvertiserId,
      kind: 'campaigns',
      entity_id: `80000000000${n}`,
      name: `${name} order`,
      data: JSON.stringify({ campaignId: `80000000000${n}` }),
    });
    const [{ id: supplierId }] = await db('suppliers')
      .insert({ account_id: accountId, kind: 'bigbuy', name: `${name} supplies`, credentials_sealed: box.seal('{}') })
      .returning('id');
    const job = await createJob(db, { accountId, supplierId, jobType: 'price_update' });
    const [{ id: webhookId }] = await db('webhooks')
      .insert({ account_id: accountId, url: `http://127.0.0.1:9/${name}`, secret_sealed: box.seal('s'.repeat(20)) })
      .returning('id');
    const [{ id: integrationId }] = await db('marketplace_integrations')
      .insert({ account_id: accountId, marketplace: 'shop', endpoint_url: `http://127.0.0.1:9/${name}` })
      .returning('id');
    const listingId = `listing-${name}`;
    await db('marketplace_listings').insert({
      integration_id: integrationId,
      listing_id: listingId,
      supplier_id: supplierId,
      supplier_product_id: `P-${name}`,
    });
    const instanceId = `amc${name}instance`;
    await db('amc_instances').insert({
      account_id: accountId,
      instance_id: instanceId,
      advertiser_id: `ADV${name.toUpperCase()}`,
      marketplace_id: 'ATVPDKIKX0DER',
    });
    const workflowId = `wf_${name}`;
    await db('amc_workflows').insert({ instance_id: instanceId, workflow_id: workflowId, sql_query: 'SELECT 1' });
    const scheduleId = `sched_${name}`;
    await db('amc_schedules').insert({
      instance_id: instanceId,
      schedule_id: scheduleId,
      workflow_id: workflowId,
      aggregation_period: 'Weekly',
      aggregation_hour_utc: 4,
      aggregation_start_day: 'Monday',
      enabled: true,
      discovered_until: new Date(),
    });
    const [{ id: executionId }] = await db('amc_executions')
      .insert({
        instance_id: instanceId,
        workflow_id: workflowId,
        status: 'completed',
        request: JSON.stringify({ workflowId }),
        time_window_start: '2026-01-01T00:00:00',
        time_window_end: '2026-01-02T00:00:00',
        time_zone: 'UTC',
        output_format: 'CSV',
      })
      .returning('id');
    // A subscription Amazon never provisioned: reading it asks Amazon nothing, archiving it is refused (409).
    const [{ id: streamSubscriptionId }] = await db('stream_subscriptions')
      .insert({
        profile_id: profileId,
        dataset_id: 'sp-traffic',
        destination_arn: 'arn:aws:sqs:us-east-1:000000000000:isolation-stream',
        client_request_token: randomUUID(),
        status: 'FAILED_PROVISIONING',
      })
      .returning('id');
    // The DSP advertiser's own (no profile), and a day its report was reconciled with the Stream.
    await db('stream_subscriptions').insert({
      dsp_advertiser_id: dspAdvertiserId,
      dataset_id: 'adsp-traffic',
      destination_arn: 'arn:aws:sqs:us-east-1:000000000000:isolation-stream',
      client_request_token: randomUUID(),
      status: 'FAILED_PROVISIONING',
    });
    await db('stream_reconciled_days').insert({
      dsp_account_id: dspAdvertiserId,
      report_type: 'dspCampaign',
      day: '2026-11-01',
      campaigns: 1,
      mismatches: 1,
    });
    await db('stream_mismatches').insert({
      dsp_account_id: dspAdvertiserId,
      report_type: 'dspCampaign',
      day: '2026-11-01',
      campaign_id: `80000000000${n}`,
      metric: 'impressions',
      report_value: 10,
      stream_value: 9,
    });
    const syncBatchId = randomUUID();
    await db('sync_runs').insert({
      batch_id: syncBatchId,
      profile_id: profileId,
      entity_type: 'campaigns',
      mode: 'full',
      trigger: 'fixture',
      status: 'succeeded',
    });
    const [{ id: ingestionRunId }] = await db('ingestion_runs')
      .insert({ scope: 'account', account_id: accountId, status: 'succeeded', stages: '{}' })
      .returning('id');
    const reportRunId = randomUUID();
    const [{ id: pendingReportId }] = await db('pending_amazon_reports')
      .insert({
        profile_id: profileId,
        report_type: 'spCampaigns',
        ad_product: 'SPONSORED_PRODUCTS',
        start_date: '2026-11-01',
        end_date: '2026-11-01',
        status: 'loaded',
        run_id: reportRunId,
        amazon_report_id: `amzn-${name}`,
        columns: ['date', 'campaignId'],
        columns_hash: `fixture-${name}`,
      })
      .returning('id');
    // The DSP advertiser (reached through no profile) has a report of its own in the same run, and its day.
    const [{ id: dspReportId }] = await db('pending_amazon_reports')
      .insert({
        dsp_account_id: dspAdvertiserId,
        report_type: 'dspCampaign',
        ad_product: 'DEMAND_SIDE_PLATFORM',
        start_date: '2026-11-01',
        end_date: '2026-11-01',
        status: 'loaded',
        run_id: reportRunId,
        amazon_report_id: `amzn-dsp-${name}`,
        columns: ['date', 'orderId'],
        columns_hash: `fixture-dsp-${name}`,
      })
      .returning('id');
    await db('report_day_loads').insert({
      dsp_account_id: dspAdvertiserId,
      report_type: 'dspCampaign',
      day: '2026-11-01',
      pending_report_id: dspReportId,
      rows: 3,
      pulled_at: new Date('2026-11-02T00:00:00Z'),
    });
    return {
      accountId,
      key,
      profileId,
      dspAdvertiserId,
      supplierId,
      jobId: job.id,
      webhookId,
      integrationId,
      listingId,
      instanceId,
      workflowId,
      scheduleId,
      executionId,
      streamSubscriptionId,
      syncBatchId,
      ingestionRunId,
      reportRunId,
      pendingReportId,
    };
  };
  const a = await tenant('a', 1);
  const b = await tenant('b', 2);

  const urls = {} as Record<Service, string>;
  return {
    apps,
    urls,
    adminKey,
    a,
    b,
    pg,
    ch,
    sandbox,
    listen: async () => {
      for (const s of SERVICES) urls[s] = await apps[s].listen({ host: '127.0.0.1', port: 0 });
    },
    close: async () => {
      await closeApis();
      await clients.close();
      await closeThenDrop(sandbox, ch, pg);
    },
  };
}
