/**
 * Amazon Marketing Stream subscriptions (en-us/guides/amazon-marketing-stream/
 * managing-subscriptions.md): create, list, get and archive, per profile or DSP advertiser, in the media
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

/**
 * Whose subscriptions: a profile's (sponsored ads, /streams/subscriptions under its scope) or a DSP
 * advertiser's (adsp-* datasets, /dsp/streams/subscriptions with Amazon-Ads-Account-ID; the guide:
 * "DSP datasets must be managed with the /dsp/streams/subscriptions endpoints").
 */
export type StreamOwner = string | { dspAdvertiserId: string };

function target(owner: StreamOwner) {
  if (typeof owner === 'string') return { base: '/streams/subscriptions', req: { profileId: owner }, name: owner };
  const id = owner.dspAdvertiserId;
  return {
    base: '/dsp/streams/subscriptions',
    req: { headers: { 'Amazon-Ads-Account-ID': id }, rateKey: `dsp ${id}` },
    name: `DSP advertiser ${id}`,
  };
}
export type StreamSubscriptionStatus = StreamSubscription['status'];

/** Creates a subscription; the same clientRequestToken again answers the same subscription ("should request be re-tried"). */
export async function createSubscription(
  client: AmazonAdsClient,
  owner: StreamOwner,
  body: CreateSubscriptionRequest & { destinationArn: string },
): Promise<CreateSubscriptionAnswer> {
  const t = target(owner);
  const res = await client.call<CreateSubscriptionAnswer>({
    method: 'POST',
    path: t.base,
    ...t.req,
    body,
    contentType: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `subscribe ${t.name} to ${body.dataSetId}`,
  });
  return res.body;
}

export async function getSubscription(
  client: AmazonAdsClient,
  owner: StreamOwner,
  subscriptionId: string,
): Promise<StreamSubscription> {
  const t = target(owner);
  const res = await client.call<SubscriptionOne>({
    method: 'GET',
    path: `${t.base}/${encodeURIComponent(subscriptionId)}`,
    ...t.req,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `stream subscription ${subscriptionId}`,
  });
  return res.body.subscription;
}

/** Every subscription of the profile, all pages (`nextToken` goes back as `startingToken`). */
export async function listSubscriptions(client: AmazonAdsClient, owner: StreamOwner): Promise<StreamSubscription[]> {
  const t = target(owner);
  const out: StreamSubscription[] = [];
  let startingToken: string | undefined;
  do {
    const res = await client.call<SubscriptionList>({
      method: 'GET',
      path: t.base,
      ...t.req,
      query: { maxResults: 5000, startingToken },
      accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
      what: `stream subscriptions of ${t.name}`,
    });
    out.push(...(res.body.subscriptions ?? []));
    startingToken = res.body.nextToken || undefined;
  } while (startingToken);
  return out;
}

/** Archives a subscription (there is no delete): PUT with status ARCHIVED; only ACTIVE ones can be archived. */
export async function archiveSubscription(client: AmazonAdsClient, owner: StreamOwner, subscriptionId: string) {
  const t = target(owner);
  await client.call({
    method: 'PUT',
    path: `${t.base}/${encodeURIComponent(subscriptionId)}`,
    ...t.req,
    body: { status: 'ARCHIVED' } satisfies UpdateSubscriptionRequest,
    contentType: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    accept: STREAM_SUBSCRIPTION_MEDIA_TYPE,
    what: `archive stream subscription ${subscriptionId}`,
  });
}
