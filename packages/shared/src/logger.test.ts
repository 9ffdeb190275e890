import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, destination };
}

test('JSON lines carry level names and the ids bound on a child logger', () => {
  const { lines, destination } = capture();
  const log = createLogger({ name: 'report-poller', destination, pretty: false });
  log.child({ profileId: '123', reportId: 'r-9', runId: 'run-1' }).info('polled');
  assert.equal(lines[0]?.level, 'info');
  assert.equal(lines[0]?.name, 'report-poller');
  assert.equal(lines[0]?.profileId, '123');
  assert.equal(lines[0]?.reportId, 'r-9');
  assert.equal(lines[0]?.runId, 'run-1');
});

test('secrets are redacted wherever a caller puts them', () => {
  const { lines, destination } = capture();
  const log = createLogger({ name: 't', destination, pretty: false });
  log.info(
    {
      credentials: { refreshToken: 'Atzr|secret', clientSecret: 'shh' },
      req: { headers: { authorization: 'Bearer k' } },
    },
    'x',
  );
  const text = JSON.stringify(lines[0]);
  assert.ok(!text.includes('Atzr|secret'));
  assert.ok(!text.includes('shh'));
  assert.ok(!text.includes('Bearer k'));
  assert.match(text, /\[redacted\]/);
});
