import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { badRequest } from '@adsync/shared/http/errors';

/** The Amazon client of the account a request names: an account without usable credentials is the caller's 400, saying why. */
export function requestClient(clients: AmazonClients, accountId: string): Promise<AmazonAdsClient> {
  return clients.forAccount(accountId).catch((err: Error) => {
    throw badRequest(err.message);
  });
}
