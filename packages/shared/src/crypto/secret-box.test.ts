import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSecretBox, secretBoxFromEnv, SecretBoxError, DEV_ENCRYPTION_KEY, parseKey } from './secret-box.ts';

test('seal and open round-trip; the sealed form does not contain the secret', () => {
  const box = createSecretBox(randomBytes(32));
  const sealed = box.seal('Atzr|very-secret');
  assert.doesNotMatch(sealed, /very-secret/);
  assert.notEqual(box.seal('Atzr|very-secret'), sealed, 'fresh IV each time');
  assert.equal(box.open(sealed), 'Atzr|very-secret');
});

test('tampering and the wrong key are refused', () => {
  const box = createSecretBox(randomBytes(32));
  const sealed = box.seal('x');
  const parts = sealed.split('.');
  parts[4] = Buffer.from('y').toString('base64url');
  assert.throws(() => box.open(parts.join('.')), SecretBoxError);
  assert.throws(() => createSecretBox(randomBytes(32)).open(sealed), /not configured/);
});

test('rotation: values sealed with the previous key still open', () => {
  const oldKey = randomBytes(32);
  const sealed = createSecretBox(oldKey).seal('old');
  assert.equal(createSecretBox(randomBytes(32), [oldKey]).open(sealed), 'old');
});

test('production without a key refuses to start; keys must be 32 bytes', () => {
  assert.throws(() => secretBoxFromEnv({ NODE_ENV: 'production' }), /ENCRYPTION_KEY is required/);
  assert.equal(parseKey(DEV_ENCRYPTION_KEY).length, 32);
  assert.throws(() => parseKey('c2hvcnQ='), /32 bytes/);
});
