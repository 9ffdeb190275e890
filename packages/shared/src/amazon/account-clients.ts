/**
 * Amazon credentials per account: sealed at rest, opened only to build a client,
 * never logged and never returned by the API.
 */
import { AppError, PermanentError } from '../runtime/errors.ts';
import type { Knex } from '../db/postgres.ts';
import type { Logger } from '../logger.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { AmazonAdsClient } from './ads-client.ts';
import type { Region } from './regions.ts';
import { accountOfProfile } from '../accounts/profiles.ts';
import { accountOfAdvertiser } from '../accounts/dsp-advertisers.ts';
import type { ReportOwner } from '../reports/report-owner.ts';

export interface CredentialsInput {
  region: Region;
  client_id: string;
  client_secret: string;
  refresh_token: string;
}

export async function storeCredentials(
  db: Knex,
  box: SecretBox,
  accountId: string,
  c: CredentialsInput,
): Promise<void> {
  await db('amazon_credentials')
    .insert({
      account_id: accountId,
      region: c.region,
      client_id: c.client_id,
      client_secret_sealed: box.seal(c.client_secret),
      refresh_token_sealed: box.seal(c.refresh_token),
    })
    .onConflict('account_id')
    .merge({
      region: c.region,
      client_id: c.client_id,
      client_secret_sealed: box.seal(c.client_secret),
      refresh_token_sealed: box.seal(c.refresh_token),
      updated_at: db.fn.now(),
      last_auth_error: null,
      last_auth_error_at: null,
    });
}

/** Whether the account has credentials stored (without opening them). */
export async function hasCredentials(db: Knex, accountId: string): Promise<boolean> {
  return !!(await db('amazon_credentials').where({ account_id: accountId }).first('account_id'));
}

/** Ids of the accounts with credentials, as a subquery (`whereIn('id', …)`). */
export function credentialedAccountIds(db: Knex) {
  return db('amazon_credentials').select('account_id');
}

/**
 * What an operator is told of an account's Amazon login (as entity-sync last found it: its syncs and
 * ingestions record Login with Amazon's refusals and clear them once it grants a token again): never
 * connected; connected (since the credentials were stored); expired (Login
 * with Amazon answered invalid_grant: the refresh token is revoked or lapsed, so the client must
 * consent again); refused (any other refusal, e.g. a wrong client id or secret), with Amazon's words.
 */
export type CredentialState =
  | { state: 'not_connected'; reason: null; since: null }
  | { state: 'connected' | 'expired' | 'refused'; reason: string | null; since: string };

/** Pure: the state of a stored credentials row (its last refusal, if any), or of none. */
export function credentialState(
  row:
    { updated_at: Date | string; last_auth_error: string | null; last_auth_error_at: Date | string | null } | undefined,
): CredentialState {
  if (!row) return { state: 'not_connected', reason: null, since: null };
  if (!row.last_auth_error) return { state: 'connected', reason: null, since: new Date(row.updated_at).toISOString() };
  return {
    state: /invalid_grant/.test(row.last_auth_error) ? 'expired' : 'refused',
    reason: row.last_auth_error,
    since: new Date(row.last_auth_error_at ?? row.updated_at).toISOString(),
  };
}

/** The credential state of each of these accounts (without opening any secret). */
export async function credentialStates(db: Knex, accountIds: string[]): Promise<Map<string, CredentialState>> {
  const rows = await db('amazon_credentials')
    .whereIn('account_id', accountIds)
    .select('account_id', 'updated_at', 'last_auth_error', 'last_auth_error_at');
  const found = new Map(rows.map((r) => [r.account_id as string, r]));
  return new Map(accountIds.map((id) => [id, credentialState(found.get(id))]));
}

/** An account that was never connected to Amazon: the caller's to fix (a 409 saying how), never retried. */
export class MissingCredentialsError extends AppError {
  constructor(accountId: string) {
    super(
      'ADSYNC_NO_CREDENTIALS',
      `account ${accountId} has no Amazon credentials; connect it first (the consent flow, or POST /v1/accounts/${accountId}/credentials)`,
      { retriable: false },
    );
    this.name = 'MissingCredentialsError';
  }
}

/** Builds (and caches per account) an Amazon Ads client from the stored credentials. */
export class AmazonClients {
  private readonly cache = new Map<string, { client: AmazonAdsClient; updatedAt: string }>();
  private readonly db: Knex;
  private readonly box: SecretBox;
  private readonly log: Logger;
  private readonly baseUrl: string | undefined;

  constructor(opts: { db: Knex; box: SecretBox; log: Logger; baseUrl?: string }) {
    this.db = opts.db;
    this.box = opts.box;
    this.log = opts.log;
    this.baseUrl = opts.baseUrl || undefined;
  }

  async forAccount(accountId: string): Promise<AmazonAdsClient> {
    const row = await this.db('amazon_credentials').where({ account_id: accountId }).first();
    if (!row) throw new MissingCredentialsError(accountId);
    const updatedAt = new Date(row.updated_at).toISOString();
    const hit = this.cache.get(accountId);
    if (hit && hit.updatedAt === updatedAt) return hit.client;
    if (hit) await hit.client.close();
    const client = new AmazonAdsClient({
      region: row.region as Region,
      baseUrl: this.baseUrl,
      credentials: {
        clientId: row.client_id,
        clientSecret: this.box.open(row.client_secret_sealed),
        refreshToken: this.box.open(row.refresh_token_sealed),
      },
      log: this.log.child({ accountId }),
    });
    this.cache.set(accountId, { client, updatedAt });
    return client;
  }

  async forProfile(profileId: string): Promise<{ client: AmazonAdsClient; accountId: string }> {
    const accountId = await accountOfProfile(this.db, profileId);
    if (!accountId) throw new PermanentError(`unknown profile ${profileId}`, { code: 'ADSYNC_UNKNOWN_PROFILE' });
    return { client: await this.forAccount(accountId), accountId };
  }

  /** The client for a report's owner: a profile's account, or the account owning a DSP advertiser account. */
  async forOwner(owner: ReportOwner): Promise<{ client: AmazonAdsClient; accountId: string }> {
    if (owner.profileId !== undefined) return this.forProfile(owner.profileId);
    const accountId = await accountOfAdvertiser(this.db, owner.dspAccountId);
    if (!accountId)
      throw new PermanentError(`unknown DSP advertiser ${owner.dspAccountId}`, { code: 'ADSYNC_UNKNOWN_ADVERTISER' });
    return { client: await this.forAccount(accountId), accountId };
  }

  /** Login with Amazon refused this account's credentials: the account's state says so, with Amazon's words. */
  async recordAuthError(accountId: string, message: string): Promise<void> {
    // The same refusal again keeps its first time: "refused since" stays when it began.
    await this.db('amazon_credentials')
      .where({ account_id: accountId })
      .update({
        last_auth_error: message,
        last_auth_error_at: this.db.raw(
          'case when last_auth_error is not distinct from ? then coalesce(last_auth_error_at, now()) else now() end',
          [message],
        ),
      });
  }

  /** Amazon accepted the credentials again (e.g. a fixed app): a refusal recorded earlier no longer holds. */
  async recordAuthOk(accountId: string): Promise<void> {
    await this.db('amazon_credentials')
      .where({ account_id: accountId })
      .whereNotNull('last_auth_error')
      .update({ last_auth_error: null, last_auth_error_at: null });
  }

  async close(): Promise<void> {
    for (const { client } of this.cache.values()) await client.close();
    this.cache.clear();
  }
}
