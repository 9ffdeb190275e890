// A fuzz pass over every request the sandbox plays Amazon for: schemathesis generates
// bodies and queries from the sandbox's own endpoint declarations — wrong types, unknown
// enums, missing fields, odd strings — and none may answer 5xx. Amazon answers bad input
// with a 4xx; so must the sandbox, or tests against it prove nothing about error paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from './server.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './amazon/gateway.ts';
import { fuzz } from '@adsync/shared/testing/schemathesis';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({ seed: 17, scale: { profiles: 1 } });
});
after(() => sandbox?.close());

test('no request body, query or path the fuzzer sends makes the sandbox answer 5xx', async (t) => {
  const token = await fetch(`${sandbox.url}/auth/o2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|fuzz',
      client_id: SANDBOX_CLIENT_ID,
      client_secret: SANDBOX_CLIENT_SECRET,
    }),
  }).then((r) => r.json() as Promise<{ access_token: string }>);
  const result = await fuzz({
    schemaUrl: `${sandbox.url}/_sandbox/openapi.json`,
    baseUrl: sandbox.url,
    headers: {
      Authorization: `Bearer ${token.access_token}`,
      'Amazon-Advertising-API-ClientId': SANDBOX_CLIENT_ID,
      'Amazon-Advertising-API-Scope': sandbox.state.dataset.profiles()[0]!.profileId,
      'Amazon-Advertising-API-AdvertiserId': 'ENTITYFUZZ',
      'Amazon-Advertising-API-MarketplaceId': 'ATVPDKIKX0DER',
    },
    maxExamples: 30,
  });
  t.diagnostic(`${result.operations} operations fuzzed; ${result.failures.length} failures`);
  assert.ok(
    result.operations >= sandbox.endpoints.length + 10,
    `every declared endpoint was fuzzed (${result.operations} of ${sandbox.endpoints.length}):\n${result.output.slice(-3000)}`,
  );
  assert.deepEqual(result.failures, [], result.output.slice(-8000));
  assert.equal(result.code, 0, result.output.slice(-8000));
  assert.equal(
    sandbox.state.requestLog.filter((e) => e.status >= 500 && !e.injected).length,
    0,
    'no 5xx in the request log either',
  );
});
