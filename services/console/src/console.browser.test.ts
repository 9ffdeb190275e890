// The operator console in a real browser (Debian's chromium, driven by playwright-core) against
// real services, the real stack and the sandbox playing Amazon: sign in with a key, create an
// account, connect it through Amazon's consent page and land back on it with its profiles, leave a
// profile out, run an ingestion and watch it finish; an account key sees its own account only.
// It registers an AMC instance, saves a workflow, runs it for a chosen window and time zone and
// reads its rows (and downloads them); sees AMC refuse to delete a scheduled workflow; adds a
// supplier and starts a job; subscribes a profile to Marketing Stream and sees it confirmed.
// Each page is photographed (at laptop and phone widths) into .stack/screenshots/console/ and
// checked with axe-core: no serious or critical violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import axe from 'axe-core';
import { BIGBUY_API_KEY, startSandbox, type Sandbox } from '@adsync/sandbox';
import {
  eventually,
  freshClickHouse,
  freshPostgres,
  requireKafka,
  requireSqs,
  testConfig,
  uniqueName,
  type FreshClickHouse,
  type FreshPostgres,
} from '@adsync/shared/testing/test-stack';
import { ServiceProcess, freePort } from '@adsync/shared/testing/service-process';
import { createEventBus } from '@adsync/shared/kafka/event-bus';
import { RegistryCodec } from '@adsync/shared/kafka/codec';
import { sampleEvent } from '@adsync/shared/kafka/sample-events';
import { requireRegistry, testLogger } from '@adsync/shared/testing/test-stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = `adsk_console_test_${randomBytes(12).toString('hex')}`;
const root = fileURLToPath(new URL('../../../', import.meta.url));
export const SCREENSHOTS = `${process.env.ADSYNC_STACK_DIR ?? `${root}.stack`}/screenshots/console`;

const cfg = testConfig();
const prefix = `${uniqueName('console')}.`;
let pg: FreshPostgres;
let ch: FreshClickHouse;
let sandbox: Sandbox;
let browser: Browser;
const services: ServiceProcess[] = [];
let consoleUrl = '';
let entitySyncUrl = '';
const accessibility: { page: string; violations: string[] }[] = [];

before(async () => {
  // A missing browser is a failure that says how to get one, never a skip.
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: deploy/local/stack test installs Debian's chromium`);
  await requireKafka(cfg);
  pg = await freshPostgres();
  ch = await freshClickHouse();
  const sqs = await requireSqs();
  sandbox = await startSandbox({
    seed: 71,
    scale: { profiles: 2, campaignsPerProfile: 2 },
    faults: { reportGenerationMs: 150, amcExecutionMs: 1500 },
    sqsEndpoint: sqs,
  });
  const [esPort, pollerPort, requesterPort, loaderPort, consolePort, amcPort, supplierPort, streamPort] =
    (await Promise.all(Array.from({ length: 8 }, () => freePort()))) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
  consoleUrl = `http://127.0.0.1:${consolePort}`;
  entitySyncUrl = `http://127.0.0.1:${esPort}`;
  const env = {
    DATABASE_URL: pg.url,
    CLICKHOUSE_DATABASE: ch.ch.database,
    KAFKA_TOPIC_PREFIX: prefix,
    SCHEMA_REGISTRY_URL: cfg.SCHEMA_REGISTRY_URL ?? '',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_API_KEY: ADMIN,
    AMAZON_ADS_BASE_URL: sandbox.url,
    LOG_LEVEL: 'warn',
  };
  services.push(
    new ServiceProcess('entity-sync', { port: esPort, env: { ...env, CONSOLE_URL: consoleUrl } }),
    new ServiceProcess('report-poller', { port: pollerPort, env }),
    new ServiceProcess('report-requester', { port: requesterPort, env }),
    new ServiceProcess('etl-loader', { port: loaderPort, env }),
    new ServiceProcess('amc-runner', {
      port: amcPort,
      env: { ...env, AMC_POLL_INTERVAL_MS: '500', AMC_POLL_MIN_SPACING_MS: '300' },
    }),
    new ServiceProcess('supplier-sync', {
      port: supplierPort,
      env: { ...env, BIGBUY_BASE_URL: sandbox.url, ALIEXPRESS_BASE_URL: sandbox.url },
    }),
    new ServiceProcess('stream-consumer', {
      port: streamPort,
      env: {
        ...env,
        SQS_ENDPOINT: sqs,
        STREAM_QUEUE_NAME: uniqueName('console_stream').replace(/[^A-Za-z0-9_-]/g, '_'),
      },
    }),
    new ServiceProcess('console', {
      port: consolePort,
      env: {
        ...env,
        // It opens no database: one that answers nothing proves it.
        DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
        ADSYNC_ENTITY_SYNC_URL: entitySyncUrl,
        ADSYNC_REPORT_POLLER_URL: `http://127.0.0.1:${pollerPort}`,
        ADSYNC_REPORT_REQUESTER_URL: `http://127.0.0.1:${requesterPort}`,
        ADSYNC_ETL_LOADER_URL: `http://127.0.0.1:${loaderPort}`,
        ADSYNC_AMC_RUNNER_URL: `http://127.0.0.1:${amcPort}`,
        ADSYNC_SUPPLIER_SYNC_URL: `http://127.0.0.1:${supplierPort}`,
        ADSYNC_STREAM_CONSUMER_URL: `http://127.0.0.1:${streamPort}`,
      },
    }),
  );
  for (const s of services) await s.start(120_000);
  assert.ok(
    existsSync(fileURLToPath(new URL('../web/dist/index.html', import.meta.url))),
    'the console is built (pnpm run build)',
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await Promise.all(services.map((s) => s.stop()));
  await sandbox?.close();
  await ch?.drop();
  await pg?.drop();
});

/** axe-core on the page as it stands: the rules' serious and critical violations, by rule and element. */
async function audit(page: Page, name: string): Promise<void> {
  // Page code as strings: these tests are type-checked without the DOM's types.
  if (!(await page.evaluate("'axe' in window"))) await page.addScriptTag({ content: axe.source });
  const result = (await page.evaluate('axe.run(document)')) as { violations: unknown[] };
  const violations = (result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  accessibility.push({ page: name, violations });
  assert.deepEqual(violations, [], `${name}: accessibility violations`);
}

/** A screenshot at laptop width and one at phone width, and the accessibility check. */
async function photograph(page: Page, name: string): Promise<void> {
  await audit(page, name);
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}-phone.png`, fullPage: true });
  // Nothing runs off a phone's screen sideways but the tables, which scroll in their own box.
  const wide = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth + 1');
  assert.equal(wide, false, `${name} fits a phone's width`);
  await page.setViewportSize(size);
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
}

test('an operator creates an account, connects it through Amazon, chooses its profiles and watches an ingestion finish', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(consoleUrl);
  await page.getByLabel('API key').waitFor();
  await photograph(page, '01-sign-in');
  // A wrong key is said in words.
  await page.getByLabel('API key').fill('adsk_not_a_key_at_all_0000000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'This API key is not known or was revoked' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, ADMIN);
  await page.getByText('No accounts yet').waitFor();
  await photograph(page, '02-accounts-empty');

  await page.getByLabel('Company name').fill('Browser Brands');
  await page.getByLabel('Contact email (optional)').fill('ops@browser-brands.invalid');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Browser Brands', level: 1 }).waitFor();
  await page.getByText('No profiles yet').waitFor();
  await photograph(page, '03-account-new');

  // Amazon's consent page, in this tab; its answer comes back to the account's page.
  await page.getByRole('button', { name: "Open Amazon's consent page" }).click();
  await page.getByRole('button', { name: 'Continue to Amazon' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.origin === consoleUrl && u.hash.includes('connected=1'));
  await page.getByRole('status').filter({ hasText: 'Connected through Amazon' }).waitFor();
  const boxes = page.getByRole('checkbox', { name: /^Sync profile / });
  await boxes.first().waitFor();
  const profiles = sandbox.state.dataset.profiles();
  assert.equal(await boxes.count(), profiles.length, 'every profile Amazon lists is shown');
  await photograph(page, '04-account-connected');

  // Leave one profile out; the page says so, and the selection is stored.
  const leftOut = profiles[0]!.profileId;
  const box = page.getByRole('checkbox', { name: new RegExp(`^Sync profile ${leftOut}\\b`) });
  assert.equal(await box.isChecked(), true);
  // A controlled box: it changes once the API has stored the choice, so it is clicked, then awaited.
  await box.click();
  await page
    .getByRole('row')
    .filter({ hasText: leftOut })
    .getByText(/^left out/)
    .waitFor();
  assert.equal(await box.isChecked(), false);
  const accountId = /accounts\/([0-9a-f-]{36})/.exec(page.url())![1]!;
  const selection = (await (
    await fetch(`${entitySyncUrl}/v1/accounts/${accountId}/profile-selection`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
  ).json()) as { selection: { excludeProfileIds?: string[] } };
  assert.deepEqual(selection.selection.excludeProfileIds, [leftOut]);

  // An ingestion, with its stages as it runs, without a reload.
  await page.getByRole('button', { name: 'Start an ingestion' }).click();
  await page.getByRole('heading', { name: 'Ingestion run' }).waitFor();
  const status = page.getByTestId('run-status');
  await page.waitForFunction(
    "['succeeded', 'partial', 'failed'].includes(document.querySelector('[data-testid=run-status]')?.textContent ?? '')",
    undefined,
    { timeout: 180_000 },
  );
  assert.equal(await status.textContent(), 'succeeded');
  for (const stage of ['profiles', 'entities', 'reports'])
    await page
      .getByRole('row')
      .filter({ hasText: new RegExp(`^${stage}`) })
      .first()
      .waitFor();
  await photograph(page, '05-ingestion-finished');
  await page.getByRole('link', { name: 'Back to the account' }).click();
  await page.getByText(/last sync succeeded/).waitFor();
  // How its Amazon login stands, and the run in its history with its outcome.
  await page.getByTestId('credentials').filter({ hasText: 'Amazon login: connected' }).waitFor();
  assert.deepEqual(await page.getByTestId('history-status').allTextContents(), ['succeeded']);
  await photograph(page, '05b-account-history');
  await page.close();
});

test('an operator finds a missing day in the completeness grid and backfills it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Completeness' }).click();
  await page.getByRole('heading', { name: 'Completeness', level: 1 }).waitFor();
  // A window older than the ingestion's lookback (42 days): every day of it is missing, with why.
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('From').fill(day(55));
  await page.getByLabel('To').fill(day(52));
  await page.getByRole('button', { name: 'Show' }).click();
  const profile = sandbox.state.dataset.profiles()[1]!.profileId;
  const cell = page.getByRole('checkbox', {
    name: new RegExp(
      `^Select spCampaigns ${day(53)} for ${profile}: missing \\(no report covering this day was requested\\)`,
    ),
  });
  await cell.waitFor();
  // Narrowed to one report type, the grid shows that type's rows only (other types have gaps too).
  const typeCells = page.locator('table.grid tbody td:nth-child(2)');
  assert.ok((await typeCells.allTextContents()).some((t) => t !== 'spCampaigns'));
  await page.getByLabel('Report type (optional)').fill('spCampaigns');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForFunction(
    "[...document.querySelectorAll('table.grid tbody td:nth-child(2)')].every((td) => td.textContent === 'spCampaigns')",
  );
  await cell.waitFor();
  await photograph(page, '07-completeness-gaps');
  await cell.check();
  await page.getByRole('button', { name: 'Backfill 1 selected day(s)' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /Backfill asked: \d+ report\(s\) planned/ })
    .waitFor();
  // The day is now in flight at Amazon (the grid asks again on its own).
  await page.getByText(new RegExp(`^spCampaigns ${day(53)} for ${profile}: in flight`)).waitFor({ timeout: 20_000 });
  await photograph(page, '08-completeness-backfilled');
  await page.close();
});

test('an operator finds a dead letter by its reason, dry-runs and replays it, and purges one with a confirmation', async () => {
  // The tests before leave reports on their way (the ingestion's, the backfill's): the loader
  // takes a partition's messages in order, so the letter below would wait behind them. Once
  // nothing is in flight, it is the loader's next message.
  await eventually(
    async () => {
      const [row] = await pg
        .db('pending_amazon_reports')
        .whereIn('status', ['requesting', 'pending', 'processing', 'completed'])
        .count<{ n: string }[]>('* as n');
      return Number(row!.n) === 0 ? true : undefined;
    },
    { what: 'no report in flight', timeoutMs: 180_000, intervalMs: 500 },
  );
  // A report.ready for a report adsync never asked for: the loader dead-letters it with the reason.
  const bus = await createEventBus({
    brokers: cfg.KAFKA_BROKERS,
    clientId: 'console-test',
    codec: new RegistryCodec(await requireRegistry(cfg)),
    log: testLogger(),
    topicPrefix: prefix,
  });
  const key = `ghost-${randomBytes(6).toString('hex')}`;
  try {
    await bus.publish(
      'report.ready',
      [{ ...sampleEvent('report.ready', key), pendingReportId: key }],
      (e) => e.pendingReportId,
    );
  } finally {
    await bus.close();
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Dead letters' }).click();
  await page.getByLabel('Reason contains').fill(key);
  const letter = page.getByRole('checkbox', { name: `Select the report.ready letter ${key}` });
  // The loader indexes a dead letter within seconds; the filter is asked again for up to 90 s,
  // and if the letter never shows, the loader's own account says why.
  const deadline = Date.now() + 90_000;
  while (!(await letter.count()) && Date.now() < deadline) {
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForTimeout(500);
  }
  const loader = services.find((s) => s.name === 'etl-loader')!;
  assert.ok(
    await letter.count(),
    `no dead letter for ${key} after 90 s; etl-loader's readiness: ${await fetch(`${loader.url}/ready`)
      .then((r) => r.text())
      .catch((e: Error) => e.message)}\n${loader.logTail(60)}`,
  );
  await page
    .getByRole('row')
    .filter({ hasText: `pending report ${key} is not recorded` })
    .waitFor();
  await photograph(page, '09-dead-letters');
  await letter.check();
  await page.getByRole('button', { name: 'Dry run a replay' }).click();
  await page.getByRole('status').filter({ hasText: 'Dry run: would replay 1 of 1 selected' }).waitFor();
  await page.getByRole('button', { name: 'Replay', exact: true }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^replayed 1 of 1 selected/ })
    .waitFor();
  // Its cause is not mended, so the loader dead-letters it again: a new letter waits, the first is replayed.
  await page.getByLabel('State').selectOption('all');
  for (let i = 0; i < 60 && (await page.getByRole('row').filter({ hasText: key }).count()) < 2; i++) {
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForTimeout(500);
  }
  await page.getByRole('row').filter({ hasText: key }).filter({ hasText: 'replayed' }).waitFor();
  await page.getByLabel('State').selectOption('active');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('row').filter({ hasText: key }).filter({ hasText: 'waiting' }).waitFor();
  // Purge asks first; Cancel does nothing, Yes purges.
  await letter.check();
  await page.getByRole('button', { name: 'Purge…' }).click();
  const confirm = page.getByRole('alertdialog');
  await confirm.getByText('Purge 1 selected letter(s)?').waitFor();
  await photograph(page, '10-dead-letters-purge-confirm');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByRole('alertdialog').count(), 0);
  await page.getByRole('button', { name: 'Purge…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Yes, purge' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^purged 1 of 1 selected/ })
    .waitFor();
  await page.getByText('No dead letters match.').waitFor();
  await page.close();
});

test('an operator registers an AMC instance, saves a workflow, runs it for a chosen window and reads its rows', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'AMC' }).click();
  await page.getByText('No AMC instance is registered yet').waitFor();
  await page.getByLabel('Account').selectOption({ label: 'Browser Brands' });
  await page.getByLabel('Instance id').fill('amcbrowser1');
  await page.getByLabel('Advertiser id').fill('ENTITYBROWSER1');
  await page.getByLabel('Marketplace id').fill('ATVPDKIKX0DER');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByText('No saved workflows on this instance yet.').waitFor();

  await page.getByRole('button', { name: 'New workflow' }).click();
  await page.getByLabel('Workflow id').fill('reach_by_campaign');
  await page
    .getByLabel('SQL')
    .fill('SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('row').filter({ hasText: 'reach_by_campaign' }).waitFor();
  await photograph(page, '11-amc-workflows');

  // Seed 003's execution modal: an explicit window, its time zone and the output format.
  await page.getByRole('button', { name: 'Run reach_by_campaign' }).click();
  const dialog = page.getByRole('dialog', { name: 'Run reach_by_campaign' });
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  await dialog.getByLabel('Time window').selectOption('EXPLICIT');
  await dialog.getByLabel('Start').fill(`${day(10)}T00:00:00`);
  await dialog.getByLabel('End').fill(`${day(3)}T00:00:00`);
  await dialog.getByLabel('Time zone').fill('America/New_York');
  await dialog.getByLabel('Output format').selectOption('CSV');
  // A window that ends before it starts is said in words, and nothing reaches AMC.
  await dialog.getByLabel('End').fill(`${day(12)}T00:00:00`);
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await dialog.getByRole('alert').filter({ hasText: 'The window must start before it ends.' }).waitFor();
  assert.equal(sandbox.state.amcExecutions.size, 0);
  await dialog.getByLabel('End').fill(`${day(3)}T00:00:00`);
  await photograph(page, '12-amc-run-dialog');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });

  // The execution's status moves on its own, without a reload, until AMC completes it.
  const row = page.getByRole('row').filter({ hasText: 'reach_by_campaign' }).filter({ hasText: 'America/New_York' });
  await row
    .getByTestId('execution-status')
    .filter({ hasText: /^completed/ })
    .waitFor({ timeout: 60_000 });
  const [atAmc] = [...sandbox.state.amcExecutions.values()];
  assert.equal(atAmc!.request.timeWindowStart, `${day(10)}T00:00:00`);
  assert.equal(atAmc!.request.timeWindowEnd, `${day(3)}T00:00:00`);
  assert.equal(atAmc!.request.timeWindowTimeZone, 'America/New_York');
  assert.equal(atAmc!.request.outputFormat, 'CSV');
  const rows = atAmc!.rowCount!;
  assert.ok(rows >= 5, `${rows} rows`);
  await row.getByRole('link', { name: 'reach_by_campaign' }).click();
  await page.getByText(`${rows} rows.`).waitFor();
  const table = page.getByTestId('amc-results');
  await table.locator('tbody tr').first().waitFor();
  assert.deepEqual(await table.getByRole('columnheader').allTextContents(), [
    'campaign',
    'impressions',
    'reach',
    'conversions',
    'new_to_brand',
  ]);
  assert.equal(await table.locator('tbody tr').count(), rows);
  await photograph(page, '13-amc-results');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  // The download holds exactly the rows AMC wrote, in its order (its file's line endings aside).
  const csv = readFileSync((await download.path())!, 'utf8')
    .trimEnd()
    .split('\r\n');
  assert.equal(csv.length, rows + 1);
  assert.deepEqual(csv, atAmc!.file!.toString('utf8').trimEnd().split('\n'));

  // A schedule runs the workflow: AMC refuses to delete it, and the page says so in AMC's words.
  await page.getByRole('link', { name: 'amcbrowser1' }).click();
  await page.getByLabel('Schedule id').fill('reach_daily');
  await page.getByLabel('Workflow', { exact: true }).selectOption('reach_by_campaign');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await page.getByRole('button', { name: 'Disable reach_daily' }).click();
  await page.getByRole('row').filter({ hasText: 'reach_daily' }).getByText('disabled').waitFor();
  await page.getByRole('button', { name: 'Enable reach_daily' }).waitFor();
  await page.getByRole('button', { name: 'Delete reach_by_campaign' }).click();
  await page.getByRole('button', { name: 'Delete it' }).click();
  const refusal = page
    .getByRole('alert')
    .filter({ hasText: /cannot be deleted because it is used by schedule\(s\) reach_daily/ });
  await refusal.waitFor();
  await photograph(page, '14-amc-delete-refused');
  assert.equal((await page.getByRole('row').filter({ hasText: 'reach_by_campaign' }).count()) > 0, true);
  await page.close();
});

test('an operator adds a supplier, starts a job and watches it finish, and registers a webhook', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Suppliers' }).click();
  await page.getByText('No suppliers yet; add one below.').waitFor();
  await page.locator('#sup-account').selectOption({ label: 'Browser Brands' });
  await page.getByLabel('Supplier', { exact: true }).selectOption('bigbuy');
  await page.getByLabel('Name').fill('BigBuy EU');
  await page.getByLabel('API key').fill(BIGBUY_API_KEY);
  await page.getByRole('button', { name: 'Add supplier' }).click();
  await page.getByLabel('Job type for BigBuy EU').selectOption('inventory_update');
  await page.getByRole('button', { name: 'Start job for BigBuy EU' }).click();
  await page.getByRole('status').filter({ hasText: 'Started an inventory update job for BigBuy EU.' }).waitFor();
  const job = page.getByRole('row').filter({ hasText: 'inventory update (manual)' });
  await job.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 });
  // Only what the filter names.
  await page.getByLabel('Status').selectOption('failed');
  await page.getByText('No jobs failed.').waitFor();
  await page.getByLabel('Status').selectOption('completed');
  await job.waitFor();
  const webhookAccount = page.locator('#wh-account');
  await webhookAccount.selectOption({ label: 'Browser Brands' });
  await page.getByLabel('URL').fill(`${sandbox.url}/_sandbox/webhook-receiver`);
  await page.getByLabel('Signing secret').fill('a-signing-secret-of-24-chars');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByRole('row').filter({ hasText: '/_sandbox/webhook-receiver' }).waitFor();
  // A receiver adsync would never post to is refused with the reason, not stored.
  await page.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data');
  await page.getByLabel('Signing secret').fill('a-signing-secret-of-24-chars');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: 'webhook URL http://169.254.169.254/latest/meta-data refused' })
    .waitFor();
  assert.equal(await page.getByRole('row').filter({ hasText: '169.254.169.254' }).count(), 0);
  await photograph(page, '15-suppliers');
  await page.close();
});

test("an operator subscribes a profile to Marketing Stream and sees each dataset's subscription confirmed", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Marketing Stream' }).click();
  await page.getByText('No subscriptions yet').waitFor();
  await page.getByLabel('Account').selectOption({ label: 'Browser Brands' });
  const profile = sandbox.state.dataset.profiles()[1]!.profileId;
  await page.getByLabel('Profile', { exact: true }).selectOption(profile);
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Subscribed to \d+ datasets\.$/ })
    .waitFor();
  // Amazon confirms through the queue; the page asks again until every one is active.
  const states = page.getByTestId('stream-status');
  await page.waitForFunction(
    "[...document.querySelectorAll('[data-testid=stream-status]')].length > 0 && [...document.querySelectorAll('[data-testid=stream-status]')].every((e) => e.textContent === 'active')",
    undefined,
    { timeout: 60_000 },
  );
  assert.ok((await states.count()) >= 5, `${await states.count()} datasets`);
  await photograph(page, '16-marketing-stream');
  // Archiving asks first (Amazon cannot bring a subscription back); Keep it does nothing.
  const archive = page.getByRole('button', { name: `Archive budget-usage for ${profile}` });
  await archive.click();
  await page.getByRole('group', { name: 'Confirm archiving' }).getByRole('button', { name: 'Keep it' }).click();
  assert.equal(await page.getByRole('group', { name: 'Confirm archiving' }).count(), 0);
  await archive.click();
  await page.getByRole('button', { name: 'Archive it' }).click();
  await page
    .getByRole('row')
    .filter({ hasText: 'budget-usage' })
    .getByTestId('stream-status')
    .filter({ hasText: /^archived$/ })
    .waitFor();
  assert.equal([...sandbox.state.stream.subscriptions.values()].filter((x) => x.status === 'ARCHIVED').length, 1);
  await page.close();
});

test("an account's key sees its own account in the console, never another's", async () => {
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const create = async (company_name: string) =>
    (
      (await (
        await fetch(`${entitySyncUrl}/v1/accounts`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ company_name }),
        })
      ).json()) as { id: string }
    ).id;
  const [mine, theirs] = [await create('Keyholder Co'), await create('Someone Else Ltd')];
  const { key } = (await (
    await fetch(`${entitySyncUrl}/v1/accounts/${mine}/api-keys`, { method: 'POST', headers: admin, body: '{}' })
  ).json()) as { key: string };
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, key);
  await page.getByRole('link', { name: 'Keyholder Co' }).waitFor();
  const names = await page.getByRole('table').getByRole('link').allTextContents();
  assert.deepEqual(names, ['Keyholder Co']);
  await photograph(page, '06-accounts-as-account-key');
  // Its completeness shows its own profiles only (it has none connected: nothing to show).
  await page.getByRole('link', { name: 'Completeness' }).click();
  await page.getByRole('status').filter({ hasText: 'is loaded' }).waitFor();
  assert.equal(await page.getByRole('table').count(), 0);
  // AMC, suppliers and Marketing Stream: the other account's instance, supplier and subscriptions are not shown.
  await page.getByRole('link', { name: 'AMC' }).click();
  await page.getByText('No AMC instance is registered yet').waitFor();
  assert.equal(await page.getByText('amcbrowser1').count(), 0);
  await page.getByRole('link', { name: 'Suppliers' }).click();
  await page.getByText('No suppliers yet; add one below.').waitFor();
  await page.getByText('No webhooks.').waitFor();
  assert.equal(await page.getByText('BigBuy EU').count(), 0);
  await page.getByRole('link', { name: 'Marketing Stream' }).click();
  await page.getByText('No subscriptions yet').waitFor();
  // Dead letters are an admin's: the page says so in words.
  await page.getByRole('link', { name: 'Dead letters' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /^This key may not do that/ })
    .waitFor();
  // Another account's page, asked for by its id: nothing of it is shown.
  await page.goto(`${consoleUrl}/#/accounts/${theirs}`);
  await page
    .getByRole('alert')
    .filter({ hasText: `This key sees no account ${theirs}` })
    .waitFor();
  assert.equal(await page.getByText('Someone Else Ltd').count(), 0);
  await page.close();
});

after(() => {
  // What the closing note lists: every page photographed and what axe-core found on it.
  const lines = accessibility.map(
    (a) => `${a.page}: ${a.violations.length ? a.violations.join('; ') : 'no serious or critical violation'}`,
  );
  if (lines.length) console.log(`console screenshots in ${SCREENSHOTS}\n${lines.join('\n')}`);
});
