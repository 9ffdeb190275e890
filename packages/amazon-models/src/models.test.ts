import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { MANIFEST, MODELS_DIR, modelDocument, modelsOffTheirHashes, provenanceTable } from './models.ts';
import { allOperations, findOperation, operationById } from './operations.ts';
import { ModelValidator } from './validate.ts';
import { mutationsOf, sampleOf, sampleVariantsOf, UNDOCUMENTED } from './samples.ts';
import { resolvePointer } from './models.ts';

test('every model is byte for byte as recorded in the manifest, and the README says what the manifest says', () => {
  assert.equal(MANIFEST.length, 13);
  assert.deepEqual(modelsOffTheirHashes(), []);
  for (const m of MANIFEST) assert.match(m.source.commit, /^[0-9a-f]{40}$/, `${m.file} names the commit it came from`);
  const readme = readFileSync(new URL('README.md', MODELS_DIR), 'utf8');
  assert.ok(readme.includes(provenanceTable()), 'models/README.md carries the manifest’s table');
});

test('the generated types are what the models give (pnpm run build writes them)', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./generate-types.ts', import.meta.url)), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});

test('operations are indexed with their parameters, media types and examples; literal paths win', () => {
  assert.ok(allOperations().length > 250);
  const list = findOperation('POST', '/sp/campaigns/list')!;
  assert.equal(list.op.operationId, 'ListSponsoredProductsCampaigns');
  assert.deepEqual(
    list.op.requestBody?.content.map((c) => c.mediaType),
    ['application/vnd.spCampaign.v3+json'],
  );
  assert.equal(findOperation('GET', '/sd/campaigns/extended')!.op.operationId, 'listCampaignsEx');
  const one = findOperation('GET', '/sd/campaigns/123')!;
  assert.equal(one.op.operationId, 'getCampaign');
  assert.deepEqual(one.pathParams, { campaignId: '123' });
  const report = operationById('OfflineReport', 'createAsyncReport')!;
  assert.equal(report.requestBody!.examples.length, 35);
  assert.ok(report.parameters.some((p) => p.in === 'header' && p.name === 'Amazon-Ads-AccountId'));
});

test("a request is held to the operation's model: media type, JSON, body, query", () => {
  const v = new ModelValidator();
  const op = operationById('SponsoredProducts', 'ListSponsoredProductsCampaigns')!;
  const headers = { 'amazon-advertising-api-clientid': 'c', 'amazon-advertising-api-scope': '1' };
  const check = (contentType: string, body: string) =>
    v.checkRequest(op, {
      headers: { ...headers, 'content-type': contentType },
      query: new URLSearchParams(),
      pathParams: {},
      body: Buffer.from(body),
    });
  const noClient = v.checkRequest(op, {
    headers: {},
    query: new URLSearchParams(),
    pathParams: {},
    body: Buffer.alloc(0),
  });
  assert.deepEqual(!noClient.ok && noClient.problem.location, 'header.Amazon-Advertising-API-ClientId');
  assert.equal(
    check('application/vnd.spcampaign.v3+json', '{"maxResults":10}').ok,
    true,
    'media types compare case-insensitively',
  );
  const wrongType = check('application/json', '{}');
  assert.equal(!wrongType.ok && wrongType.problem.status, 415);
  const broken = check('application/vnd.spCampaign.v3+json', '{');
  assert.equal(!broken.ok && broken.problem.keyword, 'json');
  const bad = check('application/vnd.spCampaign.v3+json', '{"stateFilter":{"include":["ENABLED","NOPE"]}}');
  assert.ok(!bad.ok);
  assert.deepEqual([bad.problem.keyword, bad.problem.location], ['enum', '$.stateFilter.include[1]']);
  assert.equal(bad.problem.trigger, '"NOPE"');

  const rules = operationById('SponsoredProducts', 'GetSPBudgetRulesForAdvertiser')!;
  const q = (query: string) =>
    v.checkRequest(rules, { headers, query: new URLSearchParams(query), pathParams: {}, body: Buffer.alloc(0) });
  const missing = q('');
  assert.deepEqual(!missing.ok && [missing.problem.keyword, missing.problem.location], ['required', 'query.pageSize']);
  const typed = q('pageSize=30');
  assert.ok(typed.ok && typed.query.pageSize === 30, 'a number parameter arrives as a number');
  assert.equal(q('pageSize=thirty').ok, false);
});

test("an answer is held to the operation's model: status, Content-Type and body", () => {
  const v = new ModelValidator();
  const op = operationById('OfflineReport', 'getAsyncReport')!;
  const report = {
    configuration: {
      adProduct: 'SPONSORED_PRODUCTS',
      columns: ['impressions'],
      format: 'GZIP_JSON',
      groupBy: ['campaign'],
      reportTypeId: 'spCampaigns',
      timeUnit: 'DAILY',
    },
    createdAt: '2026-12-01T00:00:00Z',
    endDate: '2026-11-30',
    reportId: 'r',
    startDate: '2026-11-30',
    status: 'PENDING',
    updatedAt: '2026-12-01T00:00:00Z',
  };
  const answer = (status: number, contentType: string, body: unknown) =>
    v.checkResponse(op, { status, contentType, body: Buffer.from(JSON.stringify(body)) });
  assert.deepEqual(answer(200, 'application/vnd.getasyncreportresponse.v3+json', report), []);
  assert.match(answer(200, 'application/json', report)[0]!, /Content-Type application\/json is not the model's/);
  assert.match(
    answer(200, 'application/vnd.getasyncreportresponse.v3+json', { ...report, status: 'DONE' })[0]!,
    /status must be one of/,
  );
  assert.match(answer(418, 'application/json', {})[0]!, /status 418 is not among the model's answers/);
  assert.deepEqual(answer(404, 'application/json', { code: '404', detail: 'not found' }), []);
});

test('a leniency patches a private copy of the model, never the shared one', () => {
  const op = operationById('OfflineReport', 'createAsyncReport')!;
  const lenient = new ModelValidator({
    patches: [
      {
        model: 'OfflineReport',
        pointer: '#/components/schemas/AsyncReportConfiguration/properties/format',
        apply: (n) => void (n.enum = [...(n.enum as string[]), 'CSV']),
      },
    ],
  });
  const format = (v: ModelValidator) =>
    v.schemaAt('OfflineReport', '#/components/schemas/AsyncReportConfiguration/properties/format').enum as string[];
  assert.ok(format(lenient).includes('CSV'));
  assert.ok(!format(new ModelValidator()).includes('CSV'));
  assert.deepEqual(
    (
      resolvePointer(
        modelDocument('OfflineReport'),
        '#/components/schemas/AsyncReportConfiguration/properties/format',
      ) as { enum: string[] }
    ).enum,
    ['GZIP_JSON'],
  );
  assert.ok(op.requestBody);
});

test('generated requests fit the schema; every breakage of a required field or an enum does not', () => {
  const v = new ModelValidator();
  for (const [model, id] of [
    ['SponsoredProducts', 'ListSponsoredProductsKeywords'],
    ['Exports', 'TargetExport'],
    ['OfflineReport', 'createAsyncReport'],
    ['MarketingStream', 'CreateStreamSubscription'],
  ] as const) {
    const op = operationById(model, id)!;
    const ptr = op.requestBody!.content[0]!.schemaPointer!;
    const doc = modelDocument(model);
    const check = v.validatorAt(model, ptr);
    for (const full of [false, true]) {
      const value = sampleOf(doc, resolvePointer(doc, ptr), { full, today: '2026-12-01' });
      assert.ok(check(value), `${id} ${full ? 'full' : 'minimal'}: ${JSON.stringify(check.errors)}`);
    }
    const full = sampleOf(doc, resolvePointer(doc, ptr), { full: true, today: '2026-12-01' });
    const broken = mutationsOf(doc, resolvePointer(doc, ptr), full);
    assert.ok(broken.length > 0, `${id} has something to break`);
    for (const m of broken) assert.equal(check(m.value), false, `${id}: ${m.describe} is refused`);
    assert.ok(broken.some((m) => m.kind === 'enum' || m.kind === 'required'));
  }
  assert.equal(UNDOCUMENTED, 'NOT_A_DOCUMENTED_VALUE');
});

test('every branch of an anyOf is generated and broken in turn, and a refusal names the branch the request meant', () => {
  const op = operationById('SponsoredBrandsV3', 'listTargets')!;
  const doc = modelDocument(op.model);
  const pointer = op.requestBody!.content.find((c) => c.schemaPointer)!.schemaPointer!;
  const variants = sampleVariantsOf(doc, resolvePointer(doc, pointer), { full: true, today: '2026-11-24' });
  const types = variants.map((v) => (v.value as { filters: { filterType: string }[] }).filters[0]!.filterType);
  // SponsoredBrands_v3.yaml: the target list filters by creative type, state, campaign or ad group.
  for (const t of ['CREATIVE_TYPE', 'TARGETING_STATE', 'CAMPAIGN_ID', 'AD_GROUP_ID']) assert.ok(types.includes(t), t);
  const validator = new ModelValidator();
  const state = variants.find((_, i) => types[i] === 'TARGETING_STATE')!;
  const broken = mutationsOf(doc, resolvePointer(doc, pointer), state.value, state.branches).filter(
    (m) => m.kind === 'enum' && m.path.join('.') === 'filters.0.values.0',
  );
  assert.equal(broken.length, 1, 'the state branch’s own enum is broken');
  const refused = validator.checkRequest(
    op,
    {
      headers: { 'content-type': 'application/json' },
      query: new URLSearchParams(),
      pathParams: {},
      body: Buffer.from(JSON.stringify(broken[0]!.value)),
    },
    {},
  );
  assert.equal(refused.ok, false);
  assert.match(
    (refused as { problem: { message: string } }).problem.message,
    /filters\[0\]\.values\[0\] must be one of "archived", "paused", "enabled"/,
  );
});

test("Amazon Attribution's report metrics are read from its model's description, a list per report type", async () => {
  const { ATTRIBUTION_PERFORMANCE_METRICS, ATTRIBUTION_PRODUCTS_METRICS } = await import('./attribution-metrics.ts');
  assert.equal(ATTRIBUTION_PERFORMANCE_METRICS.length, 14);
  assert.equal(ATTRIBUTION_PRODUCTS_METRICS.length, 18);
  assert.ok(
    ATTRIBUTION_PERFORMANCE_METRICS.includes('Click-throughs') &&
      ATTRIBUTION_PERFORMANCE_METRICS.includes('brb_bonus_amount'),
  );
  assert.ok(
    !ATTRIBUTION_PRODUCTS_METRICS.includes('Click-throughs'),
    'the products report has no clicks (troubleshooting.md)',
  );
  assert.ok(ATTRIBUTION_PRODUCTS_METRICS.includes('brandHaloNewToBrandSales14d'));
});
