/**
 * From the queue to ClickHouse: each receive's messages are parsed, confirmations confirmed,
 * records normalised and inserted into their hourly tables, impossible messages written to the
 * dead-letter index with the reason; only then are the messages deleted from the queue. A
 * message whose work failed stays, and SQS delivers it again after its visibility timeout:
 * at least once, landing once (the tables replace by idempotency id).
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import { indexQueueDeadLetters } from '@adsync/shared/db/dead-letter-index';
import { metrics } from '@adsync/shared/runtime/metrics';
import { isDspDataset, normalise, parseMessage, type RowValues, type StreamTable } from './records.ts';
import { refreshPending } from './subscriptions.ts';
import { insertStreamRows } from './stream-facts.ts';
import { entityRow, isEntityDataset } from './entity-records.ts';
import { applyStreamedEntities, type EntityRow, type StreamedEntityType } from '@adsync/shared/entities/entity-store';
import { profilesByAdvertiser } from '@adsync/shared/accounts/profiles';
import { dspAdvertiserProfiles, learnAdvertiserTimezone } from '@adsync/shared/accounts/dsp-advertisers';
import type { SnsGate } from './sns-gate.ts';
import type { StreamQueue } from './queue.ts';

export interface IngestDeps {
  db: Knex;
  ch: ClickHouse;
  clients: AmazonClients;
  log: Logger;
  queue: StreamQueue;
  queueName: string;
  /** Verifies SNS signatures and visits SubscribeURLs, through the outbound guard. */
  sns: SnsGate;
}

/**
 * advertiser_id|marketplace_id → profile_id, from the profiles entity-sync keeps; a DSP advertiser
 * (adsp-* records) → the DSP profile that reaches it, with the advertiser's currency and zone.
 */
export class ProfileMap {
  private map = new Map<string, string>();
  private loadedAt = 0;
  private dspMap = new Map<string, { profileId: string; currency: string | null; timezone: string | null }>();
  private dspLoadedAt = 0;
  private readonly db: Knex;
  constructor(db: Knex) {
    this.db = db;
  }
  async get(advertiserId: string, marketplaceId: string): Promise<string | null> {
    const key = `${advertiserId}|${marketplaceId}`;
    // A miss reloads, at most once a second: a profile discovered meanwhile is found.
    if (!this.map.has(key) && Date.now() - this.loadedAt > 1000) {
      this.map = await profilesByAdvertiser(this.db);
      this.loadedAt = Date.now();
    }
    return this.map.get(key) ?? null;
  }
  async dsp(
    advertiserId: string,
  ): Promise<{ profileId: string; currency: string | null; timezone: string | null } | null> {
    // A miss reloads (at most once a second), and so does a minute's age: an advertiser a DSP
    // profile comes to reach (or stops reaching) moves its records to its new owner.
    const age = Date.now() - this.dspLoadedAt;
    if ((!this.dspMap.has(advertiserId) && age > 1000) || age > 60_000) {
      this.dspMap = await dspAdvertiserProfiles(this.db);
      this.dspLoadedAt = Date.now();
    }
    return this.dspMap.get(advertiserId) ?? null;
  }
  /** An advertiser's zone, from its records when its listing gave none: stored once. */
  async learnTimezone(advertiserId: string, timezone: string): Promise<void> {
    const known = this.dspMap.get(advertiserId);
    if (!known || known.timezone !== null) return;
    // A zone Intl does not know is not kept, and not tried again by this process.
    known.timezone = (await learnAdvertiserTimezone(this.db, advertiserId, timezone)) ? timezone : '';
  }
}

export interface BatchResult {
  rows: number;
  /** Campaign management records applied to Postgres (one older than the stored row changes nothing). */
  entities: number;
  confirmations: number;
  deadLetters: number;
  /** Messages left on the queue to be delivered again (their work failed). */
  retried: number;
}

export async function ingestBatch(deps: IngestDeps, profiles: ProfileMap, messages: Message[]): Promise<BatchResult> {
  const now = Date.now();
  const rows = new Map<StreamTable, RowValues[]>();
  const entities = new Map<StreamedEntityType, (EntityRow & Record<string, unknown>)[]>();
  const durable: Message[] = [];
  const letters: { messageId: string; body: string; reason: string; key: string }[] = [];
  const result: BatchResult = { rows: 0, entities: 0, confirmations: 0, deadLetters: 0, retried: 0 };
  for (const m of messages) {
    const body = m.Body ?? '';
    const parsed = parseMessage(body);
    if (parsed.kind === 'invalid') {
      letters.push({ messageId: m.MessageId ?? '', body, reason: parsed.reason, key: '' });
      continue;
    }
    // Nothing an SNS message says is acted on before its signature verifies.
    const failedAttempts = Number(m.Attributes?.ApproximateReceiveCount ?? 1);
    const retryOrGiveUp = (reason: string, key: string) => {
      if (failedAttempts >= deps.sns.confirmAttempts) {
        letters.push({ messageId: m.MessageId ?? '', body, reason: `${reason} (tried ${failedAttempts} times)`, key });
      } else {
        result.retried++;
        deps.log.warn(
          { messageId: m.MessageId, reason },
          'an SNS message could not be handled yet; SQS delivers it again',
        );
      }
    };
    if (parsed.kind === 'record' && !parsed.envelope) {
      const verdict = deps.sns.raw();
      if (!verdict.ok) {
        letters.push({
          messageId: m.MessageId ?? '',
          body,
          reason: 'deadLetter' in verdict ? verdict.deadLetter : '',
          key: parsed.dataset,
        });
        continue;
      }
    } else if (parsed.envelope) {
      const verdict = await deps.sns.verify(parsed.envelope);
      if (!verdict.ok) {
        if ('deadLetter' in verdict)
          letters.push({
            messageId: m.MessageId ?? '',
            body,
            reason: verdict.deadLetter,
            key: parsed.envelope.TopicArn,
          });
        else retryOrGiveUp(verdict.retry, parsed.envelope.TopicArn);
        continue;
      }
    }
    if (parsed.kind === 'confirmation') {
      const verdict = await deps.sns.confirm(parsed.subscribeUrl);
      if (verdict.ok) {
        result.confirmations++;
        durable.push(m);
        deps.log.info({ topicArn: parsed.topicArn }, 'confirmed a Marketing Stream subscription');
      } else if ('deadLetter' in verdict)
        letters.push({ messageId: m.MessageId ?? '', body, reason: verdict.deadLetter, key: parsed.topicArn });
      else retryOrGiveUp(verdict.retry, parsed.topicArn);
      continue;
    }
    const r = parsed.record;
    const dspRecord = isDspDataset(parsed.dataset);
    const dsp = dspRecord ? await profiles.dsp(String(r.advertiser_id ?? '')) : null;
    if (dsp && dsp.timezone === null && typeof r.advertiser_timezone === 'string' && r.advertiser_timezone)
      await profiles.learnTimezone(String(r.advertiser_id), r.advertiser_timezone);
    const profileId = dspRecord
      ? (dsp?.profileId ?? null)
      : await profiles.get(String(r.advertiser_id ?? ''), String(r.marketplace_id ?? ''));
    // '' is a DSP advertiser reached only through a manager account: its records are its own.
    if (profileId === null) {
      letters.push({
        messageId: m.MessageId ?? '',
        body,
        reason: dspRecord
          ? `DSP advertiser ${String(r.advertiser_id)} is not known to adsync (discover the account's DSP advertisers)`
          : `no profile for advertiser ${String(r.advertiser_id)} in marketplace ${String(r.marketplace_id)}`,
        key: parsed.dataset,
      });
      continue;
    }
    if (isEntityDataset(parsed.dataset)) {
      const changed = entityRow(parsed.dataset, r, profileId);
      if ('ignored' in changed) {
        deps.log.debug({ dataset: parsed.dataset, reason: changed.ignored }, 'stream record not applied');
        durable.push(m);
        continue;
      }
      if ('invalid' in changed) {
        letters.push({
          messageId: m.MessageId ?? '',
          body,
          reason: `${parsed.dataset}: ${changed.invalid}`,
          key: parsed.dataset,
        });
        continue;
      }
      const list = entities.get(changed.entity as StreamedEntityType) ?? [];
      list.push(changed.values as EntityRow & Record<string, unknown>);
      entities.set(changed.entity as StreamedEntityType, list);
      durable.push(m);
      continue;
    }
    const row = normalise(parsed.dataset, r, profileId, now, dsp?.currency ?? '');
    if ('invalid' in row) {
      letters.push({
        messageId: m.MessageId ?? '',
        body,
        reason: `${parsed.dataset}: ${row.invalid}`,
        key: parsed.dataset,
      });
      continue;
    }
    const list = rows.get(row.table) ?? [];
    list.push(row.values);
    rows.set(row.table, list);
    durable.push(m);
  }
  // Durable first: a failed insert leaves every message of this receive on the queue.
  try {
    for (const [table, values] of rows) {
      await insertStreamRows(deps.ch, table, values);
      metrics.rowsLoaded.inc({ table }, values.length);
      result.rows += values.length;
    }
    for (const [type, values] of entities) {
      await applyStreamedEntities(deps.db, type, values);
      result.entities += values.length;
    }
    if (letters.length) {
      await indexQueueDeadLetters(deps.ch, `sqs:${deps.queueName}`, 'stream-consumer', letters);
      result.deadLetters = letters.length;
      for (const l of letters)
        deps.log.warn({ messageId: l.messageId, reason: l.reason }, 'stream message dead-lettered');
    }
  } catch (err) {
    deps.log.warn(
      { err: (err as Error).message, messages: messages.length },
      'storing stream rows failed; SQS delivers them again',
    );
    return { ...result, rows: 0, entities: 0, deadLetters: 0, retried: messages.length };
  }
  const done = [...durable, ...messages.filter((m) => letters.some((l) => l.messageId === (m.MessageId ?? '')))];
  const failed = await deps.queue.remove(done);
  if (failed) deps.log.warn({ failed }, 'SQS refused some deletes; those messages come again and land once');
  if (result.confirmations > 0) await refreshPending(deps.db, deps.clients, deps.log);
  return result;
}

/** One tick: `receivers` receives at once, their messages ingested together. */
export async function ingestTick(
  deps: IngestDeps,
  profiles: ProfileMap,
  o: { receivers: number; waitSeconds: number; visibilitySec: number },
  signal?: AbortSignal,
): Promise<BatchResult> {
  const received = (
    await Promise.all(
      Array.from({ length: o.receivers }, () => deps.queue.receive(10, o.waitSeconds, o.visibilitySec, signal)),
    )
  ).flat();
  if (received.length === 0) return { rows: 0, entities: 0, confirmations: 0, deadLetters: 0, retried: 0 };
  return ingestBatch(deps, profiles, received);
}

/** Ticks until the queue gives nothing twice in a row: a demo, test or benchmark waiting for what was sent. */
export async function drainQueue(
  deps: IngestDeps,
  profiles: ProfileMap,
  o: { receivers: number; waitSeconds: number; visibilitySec: number } = {
    receivers: 4,
    waitSeconds: 0,
    visibilitySec: 5,
  },
  maxTicks = 3000,
): Promise<void> {
  for (let empty = 0, k = 0; empty < 2 && k < maxTicks; k++) {
    const r = await ingestTick(deps, profiles, o);
    empty = r.rows + r.entities + r.confirmations + r.deadLetters + r.retried === 0 ? empty + 1 : 0;
  }
}
