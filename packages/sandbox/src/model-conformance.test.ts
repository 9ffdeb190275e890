// Amazon's models decide (kept in packages/amazon-models/models): every
// operation adsync calls or the sandbox serves is probed with the models' own examples,
// requests generated from their schemas, and each required field and enum broken in turn.
// A line per operation is printed; every answer must be the model's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addDays } from '@adsync/shared/calendar';
import { findOperation, type ModelOperation } from '@adsync/amazon-models/operations';
import { LENIENCIES, SANDBOX_MODELS } from './amazon/leniencies.ts';
import type { JsonPath } from '@adsync/amazon-models/samples';
import { startSandbox, type Sandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './amazon/gateway.ts';
import { undeclaredErrorProblems } from './amazon/error-answers.ts';
import { probeOperation, reportLine, SKIP, type Fixtures, type OperationReport } from './model-conformance.ts';
import { attributionAdvertisers } from './attribution-data.ts';

let sandbox: Sandbox;
let token: string;
before(async () => {
  // Five profiles: the fifth is a DSP (agency) profile, the scope GET /dsp/advertisers takes.
  sandbox = await startSandbox({ seed: 29, scale: { profiles: 5 }, faults: { reportGenerationMs: 600_000 } });
  token = (
    (await fetch(`${sandbox.url}/auth/o2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'Atzr|model-conformance',
        client_id: SANDBOX_CLIENT_ID,
        client_secret: SANDBOX_CLIENT_SECRET,
      }),
    }).then((r) => r.json())) as { access_token: string }
  ).access_token;
});
after(() => sandbox?.close());

test('every operation answers as Amazon’s model says', async (t) => {
  const today = sandbox.state.now().toISOString().slice(0, 10);
  const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const dspAccount = sandbox.state.dataset.dspAdvertisers(0)[0]!.advertiserId;
  const agency = sandbox.state.dataset.profiles().find((p) => p.accountInfo.type === 'agency')!;
  const headers = {
    authorization: `Bearer ${token}`,
    'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
    'amazon-advertising-api-scope': profileId,
  };
  // DSP's own stream routes name the advertiser account (Amazon-Ads-Account-ID, required by the model).
  const dspStream = (op: { path: string }) => op.path.startsWith('/dsp/streams/');
  const api = async (method: string, path: string, body: unknown, contentType: string) => {
    const r = await fetch(new URL(path, sandbox.url), {
      method,
      headers: {
        ...headers,
        ...(dspStream({ path }) ? { 'amazon-ads-account-id': dspAccount } : {}),
        'content-type': contentType,
        accept: contentType,
      },
      body: JSON.stringify(body),
    });
    return (await r.json()) as Record<string, string>;
  };
  const product = (op: ModelOperation) => op.path.split('/')[1] as 'sp' | 'sb' | 'sd';
  const reportConfiguration = {
    adProduct: 'SPONSORED_PRODUCTS',
    reportTypeId: 'spCampaigns',
    groupBy: ['campaign'],
    columns: ['date', 'campaignId', 'impressions', 'clicks', 'cost'],
    timeUnit: 'DAILY',
    format: 'GZIP_JSON',
  };
  let reportsMade = 0;
  const attributionAdvertiser = attributionAdvertisers(sandbox.state.dataset, 0)[0]!.advertiserId;
  const fx: Fixtures = {
    today,
    headers: (op): Record<string, string> =>
      op.operationId === 'GetExport'
        ? { accept: 'application/vnd.campaignsexport.v1+json' }
        : op.model === 'DspAdvertisers'
          ? { 'amazon-advertising-api-scope': agency.profileId }
          : dspStream(op)
            ? { 'amazon-ads-account-id': dspAccount }
            : op.model === 'AdsApiV1'
              ? { 'amazon-ads-clientid': SANDBOX_CLIENT_ID }
              : {},
    async pathParam(op, name) {
      const ds = sandbox.state.dataset;
      if (name === 'advertiserId') return ds.dspAdvertisers(agency.index)[0]!.advertiserId;
      if (name === 'budgetRuleId') return ds.entity(product(op), 'budgetRule', 0, 0).id;
      if (name === 'campaignId') return ds.budgetRuleCampaigns(product(op), 0, 0)[0] ?? null;
      if (name === 'reportId')
        return (
          await api(
            'POST',
            '/reporting/reports',
            {
              name: `probe ${Math.random()}`,
              // A window of its own each time: an identical request while one is pending answers 425.
              // Each fixture ends its windows on a day of its own, so no two of its requests are identical
              // (an identical one while the first is pending answers 425).
              startDate: addDays(today, -2 - reportsMade++),
              endDate: addDays(today, -1),
              configuration: reportConfiguration,
            },
            'application/vnd.createasyncreportrequest.v3+json',
          )
        ).reportId!;
      if (name === 'exportId')
        return (await api('POST', '/campaigns/export', {}, 'application/vnd.campaignsexport.v1+json')).exportId!;
      if (name === 'subscriptionId') {
        const created = await api(
          'POST',
          dspStream(op) ? '/dsp/streams/subscriptions' : '/streams/subscriptions',
          {
            clientRequestToken: crypto.randomUUID(),
            dataSetId: dspStream(op) ? 'adsp-traffic' : 'sp-traffic',
            destinationArn: `arn:aws:sqs:us-east-1:123456789012:probe-${crypto.randomUUID().slice(0, 8)}`,
          },
          // The guide's older spelling is a leniency of the sponsored-ads routes; DSP's take the model's.
          dspStream(op)
            ? 'application/vnd.amazonmarketingstreamsubscriptions.v1+json'
            : 'application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json',
        );
        const s = sandbox.state.stream.subscriptions.get(created.subscriptionId!);
        if (s) s.status = 'ACTIVE';
        return created.subscriptionId ?? null;
      }
      return null;
    },
    seed(op, path: JsonPath) {
      const at = path.join('.');
      if (op.operationId === 'createAsyncReport') {
        if (at === 'configuration') return structuredClone(reportConfiguration);
        // A window of its own per request: an identical one while the first is pending answers 425.
        if (at === 'startDate') return addDays(today, -7 - reportsMade++);
        if (at === 'endDate') return addDays(today, -2);
      }
      // Amazon Attribution's report: a window within reach, all metrics, the profile's own advertiser.
      if (op.operationId === 'getAttributionTagsByCampaign') {
        if (at === 'reportType') return 'PERFORMANCE';
        if (at === 'groupBy') return 'ADGROUP';
        if (at === 'startDate') return addDays(today, -7).replaceAll('-', '');
        if (at === 'endDate') return addDays(today, -1).replaceAll('-', '');
        if (at === 'advertiserIds') return attributionAdvertiser;
        if (at === 'metrics' || at === 'cursorId') return SKIP;
      }
      if (op.operationId === 'CreateStreamSubscription' || op.operationId === 'CreateDspStreamSubscription') {
        const arn = `arn:aws:sqs:us-east-1:123456789012:probe-${crypto.randomUUID().slice(0, 8)}`;
        if (at === 'clientRequestToken') return crypto.randomUUID();
        if (at === 'dataSetId') return dspStream(op) ? 'adsp-traffic' : 'sp-traffic';
        if (at === 'destinationArn') return arn;
        if (at === 'destination') return SKIP;
      }
      return undefined;
    },
    skip: (_op, name) => /token/i.test(name),
    // The tag resources: publishers of the resource's own kind (macro or not), the profile's advertiser.
    queryValue(op, name) {
      if (op.model !== 'Attribution') return undefined;
      if (name === 'publisherIds') return op.operationId === 'getPublisherAttributionTagTemplate' ? '1' : '5';
      if (name === 'advertiserIds') return attributionAdvertiser;
      return undefined;
    },
    currentExample(op, value) {
      if (op.operationId !== 'createAsyncReport') return value;
      const v = structuredClone(value) as {
        startDate: string;
        endDate: string;
        configuration: { filters?: { field: string; values: string[] }[] };
      };
      const span = Math.round((Date.parse(v.endDate) - Date.parse(v.startDate)) / 86_400_000);
      v.endDate = addDays(today, -1);
      v.startDate = addDays(v.endDate, -span);
      // The examples' DSP advertiser (12345678910) read as the sandbox's, as their other ids are.
      for (const f of v.configuration.filters ?? []) if (f.field === 'advertiserId') f.values = [dspAccount];
      return v;
    },
    async accountProbe(op) {
      const account = { 'amazon-ads-accountid': dspAccount };
      const dspReport = () => ({
        name: `dsp probe ${Math.random()}`,
        startDate: addDays(today, -3 - reportsMade++),
        endDate: addDays(today, -3),
        configuration: {
          adProduct: 'DEMAND_SIDE_PLATFORM',
          reportTypeId: 'dspCampaign',
          groupBy: ['campaign'],
          columns: ['date', 'orderId', 'impressions', 'totalCost'],
          timeUnit: 'DAILY',
          format: 'GZIP_JSON',
          // The guide: the advertiser of Amazon-Ads-AccountId also in the filter.
          filters: [{ field: 'advertiserId', values: [dspAccount] }],
        },
      });
      if (op.operationId === 'createAsyncReport') return { headers: account, body: dspReport() };
      if (op.operationId === 'getAsyncReport' || op.operationId === 'deleteAsyncReport') {
        const r = await fetch(new URL('/reporting/reports', sandbox.url), {
          method: 'POST',
          headers: {
            authorization: headers.authorization,
            'amazon-advertising-api-clientid': SANDBOX_CLIENT_ID,
            ...account,
            'content-type': 'application/vnd.createasyncreportrequest.v3+json',
          },
          body: JSON.stringify(dspReport()),
        });
        const { reportId } = (await r.json()) as { reportId: string };
        return { headers: account, pathParams: { reportId } };
      }
      // A DSP account owns no sponsored-ads subscription; listing them is still its to do.
      if (op.operationId === 'ListStreamSubscriptions') return { headers: account };
      // Ads API v1 reads: a DSP advertiser's own entities.
      if (op.model === 'AdsApiV1')
        return { headers: account, body: { adProductFilter: { include: ['AMAZON_DSP'] }, maxResults: 2 } };
      return null;
    },
  };
  const validator = SANDBOX_MODELS;
  const reports: OperationReport[] = [];
  // Every operation the sandbox plays has a model (endpoint.ts refuses to declare one that has
  // not), and adsync calls no modelled operation it does not play (client-contract.test.ts).
  assert.ok(sandbox.endpoints.length >= 53, `${sandbox.endpoints.length} operations played`);
  for (const ep of sandbox.endpoints) {
    const found = findOperation(ep.method, ep.path);
    assert.ok(found, `${ep.method} ${ep.path} has a model`);
    reports.push(
      await probeOperation(
        found.op,
        {
          baseUrl: sandbox.url,
          headers,
          validator,
          undeclaredErrorCheck: (_op, status, body, contentType) => undeclaredErrorProblems(status, body, contentType),
        },
        fx,
      ),
    );
  }
  const lines = reports.map(reportLine);
  console.log(lines.join('\n'));
  const off = reports.filter((r) => r.unprobed || r.results.some((x) => x.problems.length > 0));
  t.diagnostic(`${reports.length - off.length} of ${reports.length} operations answer as the model says`);
  assert.equal(off.length, 0, `${off.length} operations off their model:\n${off.map(reportLine).join('\n')}`);
});

test('every leniency is listed in docs/amazon-contract.md with its operations and evidence', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/amazon-contract.md', import.meta.url)), 'utf8');
  for (const l of LENIENCIES) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${l.id}\` |`));
    assert.ok(row, `docs/amazon-contract.md lists leniency ${l.id}`);
    for (const op of l.operations) assert.ok(row.includes(op), `${l.id} names ${op} in the docs`);
    assert.ok(row.includes(l.evidence), `${l.id}'s evidence in the docs is the code's`);
  }
});
