/** The Login with Amazon app the consent flow uses, from validated config. */
import { SANDBOX_LWA_APP } from '@adsync/shared/amazon/lwa-authorization';
import type { EntitySyncConfig } from './config.ts';
import type { LwaApp } from './oauth-connect.ts';

/** Null when no app is configured (against Amazon, both LWA_CLIENT_ID and LWA_CLIENT_SECRET are needed). */
export function lwaAppFrom(cfg: EntitySyncConfig): LwaApp | null {
  const sandbox = Boolean(cfg.AMAZON_ADS_BASE_URL);
  const clientId = cfg.LWA_CLIENT_ID ?? (sandbox ? SANDBOX_LWA_APP.clientId : undefined);
  const clientSecret = cfg.LWA_CLIENT_SECRET ?? (sandbox ? SANDBOX_LWA_APP.clientSecret : undefined);
  if (!clientId || !clientSecret) return null;
  return {
    clientId,
    clientSecret,
    redirectUri: cfg.OAUTH_REDIRECT_URI ?? `http://${cfg.ENTITY_SYNC_HOST}:${cfg.ENTITY_SYNC_PORT}/v1/oauth/callback`,
    stateTtlMs: cfg.OAUTH_STATE_TTL_SEC * 1000,
  };
}
