/**
 * API keys: `adsk_` + 32 random bytes. Only the SHA-256 of a key is stored; the
 * plaintext is shown once, when the key is created. A fast hash is right here
 * (unlike passwords) because keys carry 256 bits of entropy.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';

export type Principal = { scope: 'admin'; keyId: string } | { scope: 'account'; keyId: string; accountId: string };

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export function newApiKey(): string {
  return `adsk_${randomBytes(32).toString('base64url')}`;
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
}

export async function createApiKey(
  db: Knex,
  opts: { scope: 'admin' } | { scope: 'account'; accountId: string },
  label: string | null = null,
): Promise<CreatedKey> {
  const key = newApiKey();
  const prefix = key.slice(0, 10);
  const [row] = await db('api_keys')
    .insert({
      key_hash: hashApiKey(key),
      key_prefix: prefix,
      scope: opts.scope,
      account_id: opts.scope === 'account' ? opts.accountId : null,
      label,
    })
    .returning(['id']);
  return { id: row.id as string, key, prefix };
}

/**
 * Makes sure a configured admin key (ADMIN_API_KEY) exists, so an operator can
 * bootstrap the first accounts without a database shell. Idempotent.
 */
export async function ensureAdminKey(
  db: Knex,
  key: string,
  label = 'bootstrap admin key (ADMIN_API_KEY)',
): Promise<void> {
  await db('api_keys')
    .insert({ key_hash: hashApiKey(key), key_prefix: key.slice(0, 10), scope: 'admin', account_id: null, label })
    .onConflict('key_hash')
    .ignore();
}

export async function revokeApiKey(db: Knex, id: string): Promise<void> {
  await db('api_keys').where({ id }).update({ revoked_at: db.fn.now() });
}

/** Resolves a presented key to who it speaks for, or null when unknown or revoked. */
export async function authenticate(db: Knex, presented: string): Promise<Principal | null> {
  const hash = hashApiKey(presented);
  const row = await db('api_keys')
    .where({ key_hash: hash })
    .whereNull('revoked_at')
    .first('id', 'scope', 'account_id', 'key_hash');
  if (!row) return null;
  // The lookup is by hash already; the constant-time compare guards against a
  // collation or index surprise turning into a partial match.
  if (!timingSafeEqual(Buffer.from(row.key_hash as string), Buffer.from(hash))) return null;
  // Last use is for humans auditing keys; it must never fail a request.
  db('api_keys')
    .where({ id: row.id })
    .update({ last_used_at: db.fn.now() })
    .catch(() => undefined);
  return row.scope === 'admin'
    ? { scope: 'admin', keyId: row.id as string }
    : { scope: 'account', keyId: row.id as string, accountId: row.account_id as string };
}

/**
 * `authenticate` with a short memory, for the hot paths (a dashboard polling a status
 * endpoint sends a key per request): a known key is answered from memory for `ttlMs`,
 * and its last use is written once per `ttlMs` at most. A revoked key therefore stops
 * working within `ttlMs` in every process (API_KEY_CACHE_MS, 5 s by default; 0 turns
 * the memory off). Unknown keys are never remembered, so random keys cannot fill it.
 */
export function createAuthenticator(
  db: Knex,
  opts: { ttlMs?: number; maxEntries?: number } = {},
): (presented: string) => Promise<Principal | null> {
  const ttlMs = opts.ttlMs ?? 5000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const known = new Map<string, { principal: Principal; at: number }>();
  if (ttlMs <= 0) return (presented) => authenticate(db, presented);
  return async (presented) => {
    const hash = hashApiKey(presented);
    const hit = known.get(hash);
    const now = Date.now();
    if (hit && now - hit.at < ttlMs) return hit.principal;
    const principal = await authenticate(db, presented);
    if (!principal) {
      known.delete(hash);
      return null;
    }
    if (known.size >= maxEntries) known.clear();
    known.set(hash, { principal, at: now });
    return principal;
  };
}

/** Whether a principal may read or act on an account's data. */
export function mayAccessAccount(p: Principal, accountId: string): boolean {
  return p.scope === 'admin' || p.accountId === accountId;
}
