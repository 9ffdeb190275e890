/**
 * Amazon Marketing Stream subscriptions (en-us/guides/amazon-marketing-stream/
 * managing-subscriptions.md): create, list, get and archive, per profile, in the media
 * type of Amazon's model (AmazonMarketingStream_prod_3p), through the shared Amazon Ads
 * client (tokens, retries, typed errors). Bodies and answers are typed by that model.
 */
import type { AmazonAdsClient } from './ads-client.ts';
import type {
  CreateSubscriptionAnswer,
  CreateSubscriptionRequest,
  StreamSubscriptionModel,
  SubscriptionList,
  SubscriptionOne,
  UpdateSubscriptionRequest,
} from './model-types.ts';

/** The model's media type; the guide's (…StreamSubscriptionResource.v1.0+json) is an older spelling Amazon also takes. */
export const STREAM_SUBSCRIPTION_MEDIA_TYPE = 'application/vnd.amazonmarketingstreamsubscriptions.v1+json';

export type StreamSubscription = StreamSubscriptionModel;
export type StreamSubscriptionStatus = StreamSubscription['status'];

/** Creates a subscription; the same clientRequestToken again answers the same subscription ("should request be re-tried"). */
export async function createSubscription(
  client: AmazonAdsClient,
  profileId: string,
  body: CreateSubscriptionRequest & { destinationArn: string },
): Promise<CreateSubscriptionAnswer> {
  const res = await client.call<CreateSubscriptionAnswer>({
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
  const res = await client.call<SubscriptionOne>({
    method: 'GET',
    path: `/streams/subscriptions/${encodeURIComponent(subscriptionId)}`,
    profileId,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `stream subscription ${subscriptionId}`,
  });
  return res.body.subscription;
}

/** Every subscription of the profile, all pages (`nextToken` goes back as `startingToken`). */
export async function listSubscriptions(client: AmazonAdsClient, profileId: string): Promise<StreamSubscription[]> {
  const out: StreamSubscription[] = [];
  let startingToken: string | undefined;
  do {
    const res = await client.call<SubscriptionList>({
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
    body: { status: 'ARCHIVED' } satisfies UpdateSubscriptionRequest,
    contentType: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `archive stream subscription ${subscriptionId}`,
  });
}
