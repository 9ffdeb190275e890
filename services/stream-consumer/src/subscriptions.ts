/**
 * Marketing Stream subscriptions, and the module that owns `stream_subscriptions`. A
 * subscription is recorded before Amazon is asked, with the clientRequestToken Amazon
 * dedupes on; asking again with it (after a crash, or by the refresh loop) answers the same
 * subscription. Amazon then sends an SNS SubscriptionConfirmation to the queue; fetching its
 * SubscribeURL confirms it, and the subscription turns ACTIVE (onboarding/sqs/get-started.md).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { badRequest, conflict } from '@adsync/shared/http/errors';
import {
  accountOfProfile,
  findProfile,
  profileIdsOfAccount,
  sponsoredAdsProfile,
} from '@adsync/shared/accounts/profiles';
import {
  accountAdvertisers,
  accountOfAdvertiser,
  advertiserIdsOfAccountQuery,
  reportableAdvertisersByProfile,
} from '@adsync/shared/accounts/dsp-advertisers';
import { DSP_STREAM_DATASETS, SPONSORED_STREAM_DATASETS, isDspDataset } from './records.ts';
import { ENTITY_STREAM_DATASETS } from './entity-records.ts';
import {
  archiveSubscription,
  createSubscription,
  getSubscription,
  type StreamOwner,
  type StreamSubscriptionStatus,
} from '@adsync/shared/amazon/marketing-stream';
import { PermanentError } from '@adsync/shared/runtime/errors';
import type { ReportOwner } from '@adsync/shared/reports/report-owner';

export interface SubscriptionRow {
  id: string;
  /** The profile it is kept under; null: a DSP advertiser reached only through a manager account. */
  profile_id: string | null;
  /** An adsp-* subscription's DSP advertiser (made under its account); null: the profile's own. */
  dsp_advertiser_id: string | null;
  dataset_id: string;
  destination_arn: string;
  client_request_token: string;
  subscription_id: string | null;
  status: 'requested' | StreamSubscriptionStatus;
  status_reason: string | null;
  notes: string | null;
  confirmed_at: Date | null;
  status_checked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const PENDING = ['requested', 'PROVISIONING', 'PENDING_CONFIRMATION'];

/** Whose subscription Amazon keeps: the profile's, or (adsp-* datasets) the DSP advertiser's. */
const ownerOf = (row: SubscriptionRow): StreamOwner =>
  row.dsp_advertiser_id ? { dspAdvertiserId: row.dsp_advertiser_id } : row.profile_id!;

/**
 * What a profile is subscribed to by default: a sponsored-ads profile's every sponsored-ads
 * dataset; a DSP profile's DSP datasets, where it reaches selected DSP advertisers.
 */
export async function defaultDatasets(db: Knex, profileId: string): Promise<string[]> {
  const profile = await findProfile(db, profileId);
  if (profile && !sponsoredAdsProfile(profile)) {
    const dsp = (await reportableAdvertisersByProfile(db, [profileId])).has(profileId);
    if (!dsp)
      throw badRequest(
        `profile ${profileId} is a DSP or Amazon Attribution (agency) profile reaching no selected DSP advertiser: no dataset to subscribe`,
      );
    return [...DSP_STREAM_DATASETS];
  }
  // Hours of traffic, conversions and budget usage, and the campaign management snapshots.
  return [...SPONSORED_STREAM_DATASETS, ...ENTITY_STREAM_DATASETS];
}
const FORGOTTEN = 'Amazon no longer knows this subscription';

/** The account whose login a subscription is made with: its profile's, or its advertiser's. */
async function accountOf(db: Knex, row: Pick<SubscriptionRow, 'profile_id' | 'dsp_advertiser_id'>): Promise<string> {
  if (row.profile_id === null) {
    const accountId = await accountOfAdvertiser(db, row.dsp_advertiser_id!);
    if (!accountId)
      throw new PermanentError(`DSP advertiser ${row.dsp_advertiser_id} is not known`, {
        code: 'ADSYNC_UNKNOWN_ADVERTISER',
      });
    return accountId;
  }
  const accountId = await accountOfProfile(db, row.profile_id);
  if (!accountId)
    throw new PermanentError(`profile ${row.profile_id} is not known`, { code: 'ADSYNC_UNKNOWN_PROFILE' });
  return accountId;
}

export async function findSubscription(db: Knex, id: string): Promise<SubscriptionRow | undefined> {
  return db('stream_subscriptions').where({ id }).first();
}

/**
 * Subscriptions in owner, dataset and creation order, as a query to page through (one account's,
 * profile's, or DSP advertiser account's).
 */
export function subscriptionsQuery(db: Knex, o: { accountId?: string; profileId?: string; dspAccountId?: string }) {
  let q = db('stream_subscriptions');
  if (o.accountId) {
    const accountId = o.accountId;
    q = q.where((b) =>
      b
        .whereIn('profile_id', profileIdsOfAccount(db, accountId))
        .orWhere((c) =>
          c.whereNull('profile_id').whereIn('dsp_advertiser_id', advertiserIdsOfAccountQuery(db, accountId)),
        ),
    );
  }
  if (o.profileId) q = q.where({ profile_id: o.profileId });
  if (o.dspAccountId) q = q.whereNull('profile_id').where({ dsp_advertiser_id: o.dspAccountId });
  return q.orderBy(['profile_id', 'dsp_advertiser_id', 'dataset_id', 'created_at']).select('*');
}

/**
 * Whether the Stream covered an owner's local day whole (a profile's, or a DSP advertiser
 * account's) for every one of these datasets: each subscription confirmed before the day began
 * (in the owner's zone) and not archived before it ended.
 */
export async function coveredWholeDay(
  db: Knex,
  owner: ReportOwner,
  datasets: string[],
  day: string,
  timezone: string,
): Promise<boolean> {
  const [live] = await db('stream_subscriptions as s')
    .where((q) =>
      owner.profileId !== undefined
        ? q.where('s.profile_id', owner.profileId)
        : q.whereNull('s.profile_id').where('s.dsp_advertiser_id', owner.dspAccountId),
    )
    .whereIn('s.dataset_id', datasets)
    .whereNotNull('s.confirmed_at')
    .whereRaw(`s.confirmed_at <= (?::date)::timestamp at time zone ?`, [day, timezone])
    .where((q) =>
      q
        .whereNot('s.status', 'ARCHIVED')
        .orWhereRaw(`s.updated_at >= ((?::date + 1)::timestamp at time zone ?)`, [day, timezone]),
    )
    .countDistinct<{ c: string }[]>('s.dataset_id as c');
  return Number(live!.c) >= new Set(datasets).size;
}

/** Asks Amazon for a recorded subscription (again: the token makes it idempotent) and records its answer. */
async function send(db: Knex, clients: AmazonClients, row: SubscriptionRow): Promise<SubscriptionRow> {
  const client = await clients.forAccount(await accountOf(db, row));
  try {
    const created = await createSubscription(client, ownerOf(row), {
      clientRequestToken: row.client_request_token,
      dataSetId: row.dataset_id,
      destinationArn: row.destination_arn,
      ...(row.notes ? { notes: row.notes } : {}),
    });
    const s = await getSubscription(client, ownerOf(row), created.subscriptionId);
    const [updated] = await db('stream_subscriptions')
      .where({ id: row.id })
      .update({
        subscription_id: created.subscriptionId,
        status: s.status,
        status_checked_at: db.fn.now(),
        updated_at: db.fn.now(),
      })
      .returning('*');
    return updated;
  } catch (err) {
    if (err instanceof AmazonApiError && !err.retriable) {
      const [failed] = await db('stream_subscriptions')
        .where({ id: row.id })
        .update({ status: 'FAILED_PROVISIONING', status_reason: err.message, updated_at: db.fn.now() })
        .returning('*');
      return failed;
    }
    throw err;
  }
}

/**
 * Subscribes a profile to datasets, delivering to the queue; a live subscription of the same kind
 * is answered as it is. A DSP dataset (adsp-*) is subscribed for each selected DSP advertiser the
 * profile reaches, under that advertiser's account.
 */
export async function subscribe(
  db: Knex,
  clients: AmazonClients,
  profileId: string,
  datasets: string[],
  destinationArn: string,
  notes?: string,
): Promise<SubscriptionRow[]> {
  const out: SubscriptionRow[] = [];
  const profile = await findProfile(db, profileId);
  const sponsored = datasets.filter((d) => !isDspDataset(d));
  if (profile && !sponsoredAdsProfile(profile) && sponsored.length)
    throw badRequest(
      `profile ${profileId} is a DSP or Amazon Attribution (agency) profile: it has no sponsored-ads datasets (${sponsored.join(', ')})`,
    );
  for (const dataset of datasets) {
    if (!isDspDataset(dataset)) {
      out.push(await subscribeOne(db, clients, { profileId, dataset, destinationArn, notes, advertiserId: null }));
      continue;
    }
    const advertisers = (await reportableAdvertisersByProfile(db, [profileId])).get(profileId) ?? [];
    if (!advertisers.length)
      throw badRequest(
        `${dataset} is a DSP dataset, and profile ${profileId} reaches no selected DSP advertiser (see /v1/accounts/:id/dsp-advertisers)`,
      );
    for (const advertiserId of advertisers)
      out.push(await subscribeOne(db, clients, { profileId, dataset, destinationArn, notes, advertiserId }));
  }
  return out;
}

async function subscribeOne(
  db: Knex,
  clients: AmazonClients,
  o: { profileId: string | null; dataset: string; destinationArn: string; notes?: string; advertiserId: string | null },
): Promise<SubscriptionRow> {
  const live: SubscriptionRow | undefined = await db('stream_subscriptions')
    .where((q) => (o.profileId ? q.where({ profile_id: o.profileId }) : q.whereNull('profile_id')))
    .where({ dataset_id: o.dataset, destination_arn: o.destinationArn })
    .where((q) => (o.advertiserId ? q.where({ dsp_advertiser_id: o.advertiserId }) : q.whereNull('dsp_advertiser_id')))
    .whereNotIn('status', ['ARCHIVED', 'FAILED_CONFIRMATION', 'FAILED_PROVISIONING'])
    .first();
  if (live && live.status !== 'requested') {
    // Amazon still has it: answered as it is. Amazon does not (a different environment, or it expired): made again.
    const now = await refresh(db, clients, live);
    if (now.status_reason !== FORGOTTEN) return now;
    await db('stream_subscriptions').where({ id: live.id }).update({ status: 'ARCHIVED', updated_at: db.fn.now() });
  }
  const row: SubscriptionRow =
    (live?.status === 'requested' ? live : undefined) ??
    (
      await db('stream_subscriptions')
        .insert({
          profile_id: o.profileId,
          dsp_advertiser_id: o.advertiserId,
          dataset_id: o.dataset,
          destination_arn: o.destinationArn,
          client_request_token: randomUUID(),
          notes: o.notes ?? null,
        })
        .returning('*')
    )[0];
  return send(db, clients, row);
}

/**
 * Subscribes a DSP advertiser reached only through a manager account to DSP datasets (adsp-*),
 * under its own account (Amazon-Ads-AccountId), kept without a profile.
 */
export async function subscribeAdvertiserAccount(
  db: Knex,
  clients: AmazonClients,
  advertiserId: string,
  datasets: string[],
  destinationArn: string,
  notes?: string,
): Promise<SubscriptionRow[]> {
  const sponsored = datasets.filter((d) => !isDspDataset(d));
  if (sponsored.length)
    throw badRequest(
      `DSP advertiser ${advertiserId} has DSP datasets only (adsp-*); ${sponsored.join(', ')} belong to a sponsored-ads profile`,
    );
  if (!(await accountAdvertisers(db, { advertiserIds: [advertiserId] })).length)
    throw badRequest(
      `DSP advertiser ${advertiserId} is not an active advertiser reached only through a manager account (one a DSP profile reaches subscribes under that profile; see /v1/accounts/:id/dsp-advertisers)`,
    );
  const out: SubscriptionRow[] = [];
  for (const dataset of datasets)
    out.push(await subscribeOne(db, clients, { profileId: null, dataset, destinationArn, notes, advertiserId }));
  return out;
}

/** Reads the subscription's status from Amazon and records it. */
export async function refresh(db: Knex, clients: AmazonClients, row: SubscriptionRow): Promise<SubscriptionRow> {
  if (!row.subscription_id) return row.status === 'requested' ? send(db, clients, row) : row;
  const client = await clients.forAccount(await accountOf(db, row));
  let s;
  try {
    s = await getSubscription(client, ownerOf(row), row.subscription_id);
  } catch (err) {
    if (!(err instanceof AmazonApiError && err.kind === 'not_found')) throw err;
    const [gone] = await db('stream_subscriptions')
      .where({ id: row.id })
      .update({ status_reason: FORGOTTEN, status_checked_at: db.fn.now() })
      .returning('*');
    return gone;
  }
  const [updated] = await db('stream_subscriptions')
    .where({ id: row.id })
    .update({
      status: s.status,
      ...(s.status === 'ACTIVE' && !row.confirmed_at ? { confirmed_at: db.fn.now() } : {}),
      status_checked_at: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return updated;
}

/** Every subscription still on its way to ACTIVE, asked about (or asked for, if Amazon never answered). */
/** Whether any subscription is still being set up at Amazon (refreshPending has work). */
export async function anyPendingSubscription(db: Knex): Promise<boolean> {
  return Boolean(await db('stream_subscriptions').whereIn('status', PENDING).first(db.raw('1 as one')));
}

/** Amazon is asked about subscriptions still being set up once a minute, and not at all while none is. */
export const subscriptionsLoop = (db: Knex, clients: AmazonClients, log: Logger) => ({
  name: 'subscriptions',
  tick: () => refreshPending(db, clients, log),
  wakeOn: ['stream_subscriptions'],
  due: async () => ((await anyPendingSubscription(db)) ? 60_000 : null),
});

export async function refreshPending(db: Knex, clients: AmazonClients, log: Logger): Promise<number> {
  const rows: SubscriptionRow[] = await db('stream_subscriptions').whereIn('status', PENDING);
  let changed = 0;
  for (const row of rows) {
    try {
      const after = await refresh(db, clients, row);
      if (after.status !== row.status) {
        changed++;
        log.info(
          {
            profileId: row.profile_id,
            dspAdvertiserId: row.dsp_advertiser_id,
            dataset: row.dataset_id,
            subscriptionId: after.subscription_id,
            status: after.status,
          },
          'stream subscription status changed',
        );
      }
    } catch (err) {
      log.warn(
        { profileId: row.profile_id, dataset: row.dataset_id, err: (err as Error).message },
        'stream subscription refresh failed',
      );
    }
  }
  return changed;
}

/** Archives at Amazon (there is no delete; only ACTIVE ones can be archived), then records it. */
export async function archive(db: Knex, clients: AmazonClients, row: SubscriptionRow): Promise<SubscriptionRow> {
  if (row.status === 'ARCHIVED') return row;
  if (row.status !== 'ACTIVE' || !row.subscription_id)
    throw conflict(`subscription ${row.id} is ${row.status}; Amazon archives only ACTIVE subscriptions`);
  const client = await clients.forAccount(await accountOf(db, row));
  await archiveSubscription(client, ownerOf(row), row.subscription_id);
  const [updated] = await db('stream_subscriptions')
    .where({ id: row.id })
    .update({ status: 'ARCHIVED', updated_at: db.fn.now() })
    .returning('*');
  return updated;
}
