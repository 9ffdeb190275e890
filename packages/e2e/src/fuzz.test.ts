// Fuzzing every service's HTTP API from its own OpenAPI document (schemathesis, PyPI),
// once with an admin key and once with an account-scoped key: no input may make a
// service answer 5xx, and every answer must be one the document promises — its status
// code, its content type and its body's schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '@adsync/shared/testing/schemathesis';
import { startServiceApps, SERVICES, type ServiceApps } from './service-apps.ts';

let s: ServiceApps;
before(async () => {
  s = await startServiceApps();
  await s.listen();
});
after(async () => {
  await s?.close();
});

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

for (const service of SERVICES.filter((x) => x !== 'etl-loader')) {
  test(`${service}: no 5xx and no answer outside its OpenAPI document, with an admin key and with an account key`, async (t) => {
    for (const [who, key] of [
      ['admin', s.adminKey],
      ['account', s.a.key],
    ] as const) {
      const result = await fuzz({
        schemaUrl: `${s.urls[service]}/openapi.json`,
        baseUrl: s.urls[service],
        headers: { Authorization: `Bearer ${key}` },
        checks: CHECKS,
        maxExamples: 15,
      });
      t.diagnostic(`${service} (${who} key): ${result.operations} operations, ${result.failures.length} failures`);
      assert.ok(result.operations >= 2, `${service} (${who}) was fuzzed:\n${result.output.slice(-3000)}`);
      assert.deepEqual(result.failures, [], `${service} (${who}):\n${result.output.slice(-8000)}`);
      assert.equal(result.code, 0, result.output.slice(-8000));
    }
  });
}
