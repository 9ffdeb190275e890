// An export's file is built once for unchanged data and built again after any change: a second
// full sync is served the same file, and never a stale one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from './server.ts';
import { sandboxClient } from './test-client.ts';
import { exportEntities } from '@adsync/shared/amazon/exports';

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox({ seed: 77, scale: { profiles: 1, campaignsPerProfile: 30 } });
});
after(() => sandbox?.close());

const campaigns = async () => {
  const client = sandboxClient(sandbox);
  const profileId = sandbox.state.dataset.profiles()[0]!.profileId;
  const out = new Map<string, Record<string, unknown>>();
  for await (const run of exportEntities(client, profileId, 'campaigns', {
    adProducts: ['SPONSORED_PRODUCTS'],
    pollMs: 10,
  }))
    for (const c of run) out.set(String(c.campaignId), c);
  return out;
};

test('unchanged data exports the same file again; a change is in the next export', async () => {
  const first = await campaigns();
  assert.ok(first.size >= 30, `${first.size} campaigns exported`);
  const again = await campaigns();
  assert.deepEqual(again, first);
  const built = [...sandbox.state.exports.values()].filter((e) => e.type === 'campaigns');
  assert.equal(built.length, 2, 'two exports, each with its own id');
  assert.equal(built[0]!.file, built[1]!.file, 'the second served the file the first built');

  const changes = sandbox.state.dataset.mutate(0.5, new Date(), 1, (kind) => kind === 'campaign');
  assert.ok(changes.length > 0);
  const after = await campaigns();
  for (const ch of changes) {
    const c = after.get(ch.id)!;
    assert.equal(c.name, ch.patch.name, `campaign ${ch.id} exported with its new name`);
    assert.notEqual(c.lastUpdatedDateTime, first.get(ch.id)!.lastUpdatedDateTime);
  }
  const untouched = [...first.keys()].filter((id) => !changes.some((ch) => ch.id === id));
  assert.ok(untouched.length > 0);
  for (const id of untouched) assert.deepEqual(after.get(id), first.get(id), `campaign ${id} unchanged`);
});
