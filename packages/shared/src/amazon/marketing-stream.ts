/**
 * Amazon Marketing Stream subscriptions (en-us/guides/amazon-marketing-stream/
 * managing-subscriptions.md): create, list, get and archive, per profile, in the API's
 * versioned media type, through the shared Amazon Ads client (tokens, retries, typed errors).
 */
import type { AmazonAdsClient } from './ads-client.ts';

export const STREAM_SUBSCRIPTION_MEDIA_TYPE =
  'application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json';

export type StreamSubscriptionStatus =
  | 'PROVISIONING'
  | 'PENDING_CONFIRMATION'
  | 'ACTIVE'
  | 'ARCHIVED'
  | 'FAILED_CONFIRMATION'
  | 'FAILED_PROVISIONING'
  | 'SUSPENDED';

export interface StreamSubscription {
  subscriptionId: string;
  dataSetId: string;
  destinationArn?: string;
  status: StreamSubscriptionStatus;
  notes?: string;
  createdDate?: string;
  updatedDate?: string;
}

/** Creates a subscription; the same clientRequestToken again answers the same subscription ("should request be re-tried"). */
export async function createSubscription(
  client: AmazonAdsClient,
  profileId: string,
  body: { clientRequestToken: string; dataSetId: string; destinationArn: string; notes?: string },
): Promise<{ subscriptionId: string; clientRequestToken: string }> {
  const res = await client.call<{ subscriptionId: string; clientRequestToken: string }>({
    method: 'POST',
    path: '/streams/subscriptions',
    profileId,
    body,
    contentType: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `subscribe ${profileId} to ${body.dataSetId}`,
  });
  return res.body;
}

export async function getSubscription(
  client: AmazonAdsClient,
  profileId: string,
  subscriptionId: string,
): Promise<StreamSubscription> {
  const res = await client.call<{ subscription?: StreamSubscription } & StreamSubscription>({
    method: 'GET',
    path: `/streams/subscriptions/${encodeURIComponent(subscriptionId)}`,
    profileId,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `stream subscription ${subscriptionId}`,
  });
  return res.body.subscription ?? res.body;
}

/** Every subscription of the profile, all pages (`nextToken` goes back as `startingToken`). */
export async function listSubscriptions(client: AmazonAdsClient, profileId: string): Promise<StreamSubscription[]> {
  const out: StreamSubscription[] = [];
  let startingToken: string | undefined;
  do {
    const res = await client.call<{ subscriptions?: StreamSubscription[]; nextToken?: string }>({
      method: 'GET',
      path: '/streams/subscriptions',
      profileId,
      query: { maxResults: 5000, startingToken },
      accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
      what: `stream subscriptions of ${profileId}`,
    });
    out.push(...(res.body.subscriptions ?? []));
    startingToken = res.body.nextToken || undefined;
  } while (startingToken);
  return out;
}

/** Archives a subscription (there is no delete): PUT with status ARCHIVED; only ACTIVE ones can be archived. */
export async function archiveSubscription(client: AmazonAdsClient, profileId: string, subscriptionId: string) {
  await client.call({
    method: 'PUT',
    path: `/streams/subscriptions/${encodeURIComponent(subscriptionId)}`,
    profileId,
    body: { status: 'ARCHIVED' },
    contentType: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    accept: 'application/json',
    what: `archive stream subscription ${subscriptionId}`,
  });
}
