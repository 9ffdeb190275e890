/**
 * Amazon Marketing Stream as the sandbox plays it (en-us/guides/amazon-marketing-stream/):
 * the subscriptions API (managing-subscriptions.md; `/streams/subscriptions` with its versioned
 * media type, `clientRequestToken` idempotency, statuses PENDING_CONFIRMATION → ACTIVE →
 * ARCHIVED), the SNS SubscriptionConfirmation it sends to the advertiser's SQS queue and the
 * SubscribeURL that confirms it (onboarding/sqs/get-started.md, played at /_sns/), and a
 * publisher that sends hour after hour of dataset records into the queue, SNS-wrapped, with
 * duplicates, revisions and out-of-order delivery as knobs — and remembers exactly what it sent.
 */
import { randomUUID } from 'node:crypto';
import { SNS_CERT_FILE, SNS_TEST_CERT, signAsSns } from './sns-signing.ts';
import { GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { route, send, jsonBody, type Route } from './http-kit.ts';
import type { SandboxState } from './state.ts';
import type { StreamSubscription } from './stream-state.ts';
import type { Ctx, Endpoint } from './amazon/endpoint.ts';
import { hash32 } from './hash-random.ts';
import type { Change } from './dataset.ts';
import {
  DSP_STREAM_DATASETS,
  ENTITY_STREAM_DATASETS,
  HOUR_MS,
  STREAM_DATASETS,
  entityDatasetOf,
  entityRecord,
  isEntityStreamDataset,
  dspHourRecords,
  hourRecords,
  type SplitCache,
  type StreamDataset,
  type StreamRecord,
} from './stream-data.ts';

const ARN = /^arn:aws:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80})$/;

const view = (s: StreamSubscription) => ({
  subscriptionId: s.subscriptionId,
  clientRequestToken: s.clientRequestToken,
  dataSetId: s.dataSetId,
  destinationArn: s.destinationArn,
  destination: { sqsDestination: { queueArn: s.destinationArn } },
  ...(s.notes !== undefined ? { notes: s.notes } : {}),
  status: s.status,
  createdDate: s.createdDate,
  updatedDate: s.updatedDate,
});

export interface StreamOptions {
  /** The SQS endpoint the advertiser's queues live on (ElasticMQ locally). */
  sqsEndpoint?: string;
}

export function streamRoutes(
  state: SandboxState,
  opts: StreamOptions,
): {
  /** The subscriptions API (Amazon's model: AmazonMarketingStream_prod_3p). */
  endpoints: Endpoint[];
  /** SNS's SubscribeURL and the sandbox's own publish controls. */
  routes: Route[];
  publish: (o: PublishOptions) => Promise<PublishResult>;
  /** Announces changed entities to the profiles' campaign management subscriptions; returns the messages sent. */
  announce: (changes: Change[]) => Promise<number>;
  expected: () => StreamRecord[];
} {
  const st = state.stream;
  const sqs = opts.sqsEndpoint
    ? new SQSClient({
        endpoint: opts.sqsEndpoint,
        region: 'elasticmq',
        credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
      })
    : null;
  const queueUrls = new Map<string, string>();
  const queueUrlOf = async (arn: string): Promise<string | null> => {
    const m = ARN.exec(arn);
    if (!m || !sqs) return null;
    const cached = queueUrls.get(arn);
    if (cached) return cached;
    try {
      const r = await sqs.send(new GetQueueUrlCommand({ QueueName: m[3]! }));
      queueUrls.set(arn, r.QueueUrl!);
      return r.QueueUrl!;
    } catch {
      return null;
    }
  };
  const sendAll = async (queueUrl: string, bodies: string[]) => {
    for (let k = 0; k < bodies.length; k += 10) {
      const batch = bodies.slice(k, k + 10);
      const r = await sqs!.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((b, i) => ({ Id: String(i), MessageBody: b })),
        }),
      );
      if (r.Failed?.length) throw new Error(`SQS refused ${r.Failed.length} messages: ${r.Failed[0]!.Message}`);
      st.messagesSent += batch.length;
    }
  };
  const topicArn = (s: StreamSubscription) => `arn:aws:sns:us-east-1:906013806264:${s.dataSetId}-${s.subscriptionId}`;
  /** SNS's envelope around a record (SNS → SQS without raw delivery), signed as SNS signs (SignatureVersion 2). */
  const notification = (s: StreamSubscription, record: Record<string, unknown>) =>
    JSON.stringify({
      ...signAsSns(
        {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn(s),
          Message: JSON.stringify(record),
          Timestamp: state.now().toISOString(),
        },
        state.baseUrl(),
        '2',
      ),
      UnsubscribeURL: `${state.baseUrl()}/_sns/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(topicArn(s))}`,
    });

  const confirmAfterCreate = async (s: StreamSubscription) => {
    const url = await queueUrlOf(s.destinationArn);
    if (!url) {
      s.status = 'FAILED_PROVISIONING';
      s.updatedDate = state.now().toISOString();
      return;
    }
    s.status = 'PENDING_CONFIRMATION';
    const subscribeUrl = `${state.baseUrl()}/_sns/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn(s))}&Token=${s.confirmationToken}`;
    await sendAll(url, [
      JSON.stringify(
        signAsSns(
          {
            Type: 'SubscriptionConfirmation',
            MessageId: randomUUID(),
            Token: s.confirmationToken,
            TopicArn: topicArn(s),
            Message: `You have chosen to subscribe to the topic ${topicArn(s)}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
            SubscribeURL: subscribeUrl,
            Timestamp: state.now().toISOString(),
          },
          state.baseUrl(),
          '1',
        ),
      ),
    ]);
  };

  const publish = async (o: PublishOptions): Promise<PublishResult> => {
    const hours = Math.max(1, Math.min(o.hours ?? 3, 48));
    const startMs = o.fromHourMs ?? Math.floor(state.now().getTime() / HOUR_MS) * HOUR_MS - hours * HOUR_MS;
    const byQueue = new Map<string, string[]>();
    const cache: SplitCache = new Map();
    // Distinct records: a campaign recommendation sent again in a later hour is the same record.
    const distinct = new Set<string>();
    for (const s of st.subscriptions.values()) {
      // The campaign management datasets announce changes (announce), not hours.
      if (s.status !== 'ACTIVE' || isEntityStreamDataset(s.dataSetId)) continue;
      const url = await queueUrlOf(s.destinationArn);
      if (!url) continue;
      const bodies = byQueue.get(url) ?? [];
      for (let h = 0; h < hours; h++) {
        // A fault: Stream never delivers these hours (the daily report still has them).
        if (o.omitHours?.includes(h)) continue;
        const batch =
          s.accountId && (s.dataSetId === 'adsp-traffic' || s.dataSetId === 'adsp-conversion')
            ? dspHourRecords(
                state.dataset,
                s.profileIndex,
                s.accountId,
                s.dataSetId,
                startMs + h * HOUR_MS,
                o.revisions ?? false,
                cache,
              )
            : hourRecords(
                state.dataset,
                s.profileIndex,
                s.dataSetId,
                startMs + h * HOUR_MS,
                o.revisions ?? false,
                cache,
              );
        for (const r of [...batch.originals, ...batch.revisions]) {
          const id = String(
            r.idempotency_id ??
              r.recommendation_id ??
              (r.recommendation_time
                ? `${r.campaign_id}|${r.recommendation_time}`
                : `${r.budget_scope_id}|${r.usage_updated_timestamp}`),
          );
          // A DSP advertiser's records are its own (no profile): keyed and marked by the account.
          const owner = s.accountId ? `account ${s.accountId}` : s.profileId;
          st.sent.set(
            `${owner}|${id}`,
            s.accountId ? { ...r, account_id: s.accountId } : { ...r, profile_id: s.profileId },
          );
          bodies.push(notification(s, r));
          distinct.add(`${owner}|${id}`);
          // At least once: some records arrive twice, as the same message.
          if (o.duplicates && hash32(state.dataset.seed, `dup|${id}`) / 4294967296 < o.duplicates) {
            bodies.push(notification(s, r));
            st.duplicatesSent++;
          }
        }
      }
      byQueue.set(url, bodies);
    }
    let sent = 0;
    for (const [url, bodies] of byQueue) {
      // No ordering guarantee: a revision may arrive before the record it corrects.
      if (o.shuffle)
        bodies.sort(
          (a, b) =>
            hash32(state.dataset.seed, a.slice(0, 200)) - hash32(state.dataset.seed, b.slice(0, 200)) ||
            (a < b ? -1 : 1),
        );
      await sendAll(url, bodies);
      sent += bodies.length;
    }
    return { records: distinct.size, messages: sent, fromHour: new Date(startMs).toISOString(), hours };
  };

  const announce = async (changes: Change[]): Promise<number> => {
    const byQueue = new Map<string, string[]>();
    for (const c of changes) {
      const p = state.dataset.profileIndex(c.profileId);
      if (p === null) continue;
      const e = [...state.dataset.all(c.product, c.entityKind, p)].find((x) => x.id === c.id);
      const dataset = e && entityDatasetOf(e);
      if (!e || !dataset) continue;
      const record = entityRecord(e, state.dataset.profiles()[p]!);
      if (!record) continue;
      for (const s of st.subscriptions.values()) {
        if (s.status !== 'ACTIVE' || s.accountId || s.profileIndex !== p || s.dataSetId !== dataset) continue;
        const url = await queueUrlOf(s.destinationArn);
        if (!url) continue;
        byQueue.set(url, [...(byQueue.get(url) ?? []), notification(s, record)]);
      }
    }
    let sent = 0;
    for (const [url, bodies] of byQueue) {
      await sendAll(url, bodies);
      sent += bodies.length;
    }
    return sent;
  };

  const doc = 'en-us/guides/amazon-marketing-stream/managing-subscriptions.md';
  /**
   * One family of subscription routes: sponsored ads' /streams/subscriptions under a profile's
   * scope, or DSP's /dsp/streams/subscriptions under an advertiser account (Amazon-Ads-Account-ID;
   * managing-subscriptions.md: "DSP datasets must be managed with the /dsp/streams/subscriptions
   * endpoints"). Each sees only its owner's subscriptions.
   */
  const family = (dsp: boolean): Endpoint[] => {
    const base = dsp ? '/dsp/streams/subscriptions' : '/streams/subscriptions';
    const datasets: readonly string[] = dsp ? DSP_STREAM_DATASETS : [...STREAM_DATASETS, ...ENTITY_STREAM_DATASETS];
    const ownerOf = (ctx: Ctx) => (dsp ? `account ${ctx.accountId}` : String(ctx.profileId));
    const ownerOfSub = (s: StreamSubscription) => (s.accountId ? `account ${s.accountId}` : s.profileId);
    const owned = (id: unknown, ctx: Ctx) => {
      const s = st.subscriptions.get(String(id));
      return s && ownerOfSub(s) === ownerOf(ctx) ? s : null;
    };
    return [
      {
        method: 'POST',
        path: base,
        doc,
        summary: 'create a subscription',
        handle: async (ctx) => {
          const b = ctx.body as {
            clientRequestToken: string;
            dataSetId: string;
            destinationArn?: string;
            destination?: { sqsDestination?: { queueArn?: string }; firehoseDestination?: unknown };
            notes?: string;
          };
          const token = b.clientRequestToken;
          if (!dsp && (DSP_STREAM_DATASETS as readonly string[]).includes(b.dataSetId))
            return ctx.fail(400, {
              message: `dataSetId ${b.dataSetId} is a DSP dataset: manage it with /dsp/streams/subscriptions and Amazon-Ads-Account-ID`,
              location: '$.dataSetId',
            });
          if (!datasets.includes(b.dataSetId))
            return ctx.fail(400, {
              message: `dataSetId ${b.dataSetId} is not supported; use one of ${datasets.join(', ')}`,
              location: '$.dataSetId',
            });
          // The sponsored-ads datasets are an advertiser's (a profile's); a DSP account's call reaches none of them.
          if (!dsp && ctx.accountId)
            return ctx.fail(400, {
              message: `dataSetId ${b.dataSetId} is a sponsored-ads dataset: it needs Amazon-Advertising-API-Scope naming a profile, not Amazon-Ads-AccountId`,
              location: '$.dataSetId',
            });
          const arn = b.destinationArn ?? b.destination?.sqsDestination?.queueArn;
          if (typeof arn !== 'string' || !ARN.test(arn))
            return ctx.fail(400, {
              message: 'destinationArn must be the ARN of an SQS queue (arn:aws:sqs:<region>:<account>:<queue>)',
              location: '$.destinationArn',
            });
          // "Should request be re-tried, the caller should supply the same value."
          const same = [...st.subscriptions.values()].find(
            (s) => s.clientRequestToken === token && ownerOfSub(s) === ownerOf(ctx),
          );
          if (same) return ctx.ok({ clientRequestToken: token, subscriptionId: same.subscriptionId });
          const clash = [...st.subscriptions.values()].find(
            (s) =>
              ownerOfSub(s) === ownerOf(ctx) &&
              s.dataSetId === b.dataSetId &&
              s.destinationArn === arn &&
              s.status !== 'ARCHIVED',
          );
          if (clash)
            return ctx.fail(
              409,
              'Cannot have more than one subscription per advertiser, dataSetId, & destination combination',
            );
          const now = state.now().toISOString();
          const s: StreamSubscription = {
            subscriptionId: `amzn1.fead.cs1.${randomUUID().replace(/-/g, '')}`,
            clientRequestToken: token,
            profileId: dsp ? '' : ctx.profileId!,
            profileIndex: ctx.profile!,
            ...(dsp ? { accountId: ctx.accountId! } : {}),
            dataSetId: b.dataSetId as StreamDataset,
            destinationArn: arn,
            ...(typeof b.notes === 'string' ? { notes: b.notes } : {}),
            status: 'PROVISIONING',
            createdDate: now,
            updatedDate: now,
            confirmationToken: randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, ''),
          };
          st.subscriptions.set(s.subscriptionId, s);
          try {
            await confirmAfterCreate(s);
          } catch {
            s.status = 'FAILED_PROVISIONING';
          }
          ctx.ok({ clientRequestToken: token, subscriptionId: s.subscriptionId });
        },
      },
      {
        method: 'GET',
        path: base,
        doc,
        summary: 'list subscriptions',
        handle: (ctx) => {
          const max = Number(ctx.query.maxResults ?? 5000);
          const all = [...st.subscriptions.values()].filter((s) => ownerOfSub(s) === ownerOf(ctx));
          const raw = String(ctx.query.startingToken ?? '');
          const start = raw ? Number(Buffer.from(raw, 'base64url').toString()) : 0;
          if (!Number.isInteger(start) || start < 0)
            return ctx.fail(400, { message: 'startingToken is invalid', location: 'query.startingToken' });
          ctx.ok({
            subscriptions: all.slice(start, start + max).map(view),
            ...(start + max < all.length ? { nextToken: Buffer.from(String(start + max)).toString('base64url') } : {}),
          });
        },
      },
      {
        method: 'GET',
        path: `${base}/{subscriptionId}`,
        doc,
        summary: 'get a subscription',
        handle: (ctx) => {
          const s = owned(ctx.req.params.subscriptionId, ctx);
          if (!s) return ctx.fail(404, `Subscription ${ctx.req.params.subscriptionId} not found`);
          ctx.ok({ subscription: view(s) });
        },
      },
      {
        method: 'PUT',
        path: `${base}/{subscriptionId}`,
        doc,
        summary: 'archive a subscription, or change its notes',
        handle: (ctx) => {
          const s = owned(ctx.req.params.subscriptionId, ctx);
          if (!s) return ctx.fail(404, `Subscription ${ctx.req.params.subscriptionId} not found`);
          const b = ctx.body as { status?: 'ARCHIVED'; notes?: string };
          if (b.status === 'ARCHIVED') {
            if (s.status !== 'ACTIVE') return ctx.fail(400, 'Only ACTIVE subscriptions can be archived');
            s.status = 'ARCHIVED';
          }
          if (typeof b.notes === 'string') s.notes = b.notes;
          s.updatedDate = state.now().toISOString();
          ctx.ok(undefined);
        },
      },
    ];
  };
  const endpoints: Endpoint[] = [...family(false), ...family(true)];

  const routes: Route[] = [
    // The certificate SNS signs with, at the SigningCertURL it names (sns.<region>.amazonaws.com/SimpleNotificationService-<id>.pem).
    route('GET', `/${SNS_CERT_FILE}`, (_req, res) => send(res, 200, SNS_TEST_CERT, 'application/x-x509-ca-cert')),
    // SNS's SubscribeURL (sns.<region>.amazonaws.com/?Action=ConfirmSubscription&TopicArn=…&Token=…).
    route('GET', '/_sns/', (req, res) => {
      const token = req.query.get('Token');
      const s = [...st.subscriptions.values()].find((x) => x.confirmationToken === token);
      if (req.query.get('Action') !== 'ConfirmSubscription' || !s)
        return send(
          res,
          400,
          '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid token</Message></Error></ErrorResponse>',
          'text/xml',
        );
      if (s.status === 'PENDING_CONFIRMATION') {
        s.status = 'ACTIVE';
        s.updatedDate = state.now().toISOString();
      }
      send(
        res,
        200,
        `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${topicArn(s)}:${s.subscriptionId}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
        'text/xml',
      );
    }),
    route('POST', '/_sandbox/stream/publish', async (req, res) => {
      const b = jsonBody<Record<string, unknown>>(req) ?? {};
      try {
        send(
          res,
          200,
          await publish({
            hours: Number(b.hours ?? 3),
            fromHourMs: typeof b.fromHour === 'string' ? Date.parse(b.fromHour) : undefined,
            duplicates: Number(b.duplicates ?? 0),
            revisions: b.revisions === true,
            shuffle: b.shuffle === true,
            omitHours: Array.isArray(b.omitHours) ? b.omitHours.map(Number) : undefined,
          }),
        );
      } catch (err) {
        send(res, 502, { error: (err as Error).message });
      }
    }),
    route('GET', '/_sandbox/stream/expected', (_req, res) => send(res, 200, { records: expected() })),
  ];
  const expected = () => [...st.sent.values()];
  return { endpoints, routes, publish, announce, expected };
}

export interface PublishOptions {
  hours?: number;
  fromHourMs?: number;
  /** Share of records sent twice. */
  duplicates?: number;
  /** Send each restated cell's first value and a correcting delta. */
  revisions?: boolean;
  /** Deliver in an order unrelated to the hours and revisions. */
  shuffle?: boolean;
  /** Hours (0-based within the window) Stream never delivers: a loss the reconciliation with reports must find. */
  omitHours?: number[];
}

export interface PublishResult {
  records: number;
  messages: number;
  fromHour: string;
  hours: number;
}
