/**
 * Secrets at rest (refresh tokens, client secrets, supplier API keys): AES-256-GCM
 * with a key from the environment. Stored as `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url), so keys can be rotated: new writes use the current key, reads use
 * whichever key id the value names.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from '../runtime/errors.ts';

export class SecretBoxError extends AppError {
  constructor(message: string) {
    super('ADSYNC_ERR_SECRET', message, { retriable: false });
    this.name = 'SecretBoxError';
  }
}

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

/** Decodes a 32-byte key given as base64 or 64 hex characters. */
export function parseKey(value: string): Buffer {
  const v = value.trim();
  const buf = /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (buf.length !== 32)
    throw new SecretBoxError(
      'ENCRYPTION_KEY must be 32 bytes, as base64 or 64 hex characters (generate one: openssl rand -base64 32)',
    );
  return buf;
}

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('base64url').slice(0, 8);

export function createSecretBox(current: Buffer, previous: Buffer[] = []): SecretBox {
  const keys = new Map([current, ...previous].map((k) => [keyIdOf(k), k]));
  const currentId = keyIdOf(current);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        'v1',
        currentId,
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        ct.toString('base64url'),
      ].join('.');
    },
    open(sealed) {
      const [v, keyId, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1' || !keyId || !iv || !tag || ct === undefined)
        throw new SecretBoxError('stored secret is not in the v1 format');
      const key = keys.get(keyId);
      if (!key)
        throw new SecretBoxError(
          `stored secret was sealed with key ${keyId}, which is not configured (set ENCRYPTION_KEY_PREVIOUS)`,
        );
      try {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('stored secret failed authentication (tampered, or the wrong key)');
      }
    },
  };
}

/**
 * A fixed development key, used only outside production so the demo runs with
 * no setup. Production refuses to start without ENCRYPTION_KEY.
 */
export const DEV_ENCRYPTION_KEY = 'ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE=';

export function secretBoxFromEnv(env: {
  NODE_ENV: string;
  ENCRYPTION_KEY?: string | undefined;
  ENCRYPTION_KEY_PREVIOUS?: string | undefined;
}): SecretBox {
  if (!env.ENCRYPTION_KEY && env.NODE_ENV === 'production')
    throw new SecretBoxError('ENCRYPTION_KEY is required in production (generate one: openssl rand -base64 32)');
  const previous = (env.ENCRYPTION_KEY_PREVIOUS ?? '').split(',').filter(Boolean).map(parseKey);
  return createSecretBox(parseKey(env.ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY), previous);
}
