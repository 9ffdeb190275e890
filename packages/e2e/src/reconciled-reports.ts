/**
 * Loads reports through the real pipeline in this process — the loader and stream-consumer's
 * report.loaded reconciliation, as the services run them — and returns once every day Stream
 * should be compared with has been: the step both Marketing Stream reconciliation tests share.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import type { Logger } from '@adsync/shared/logger';
import type { Tier } from '@adsync/shared/reports/report-plan';
import { relayOutbox } from '@adsync/shared/db/outbox';
import { requestReports } from '@adsync/shared/reports/request-reports';
import { eventually } from '@adsync/shared/testing/test-stack';
import { pollTick } from '@adsync/report-poller/poll-tick';
import { startLoader } from '@adsync/etl-loader/loader';
import { reconcileReport } from '@adsync/stream-consumer/reconcile';

export async function loadAndReconcile(
  deps: { db: Knex; ch: ClickHouse; bus: EventBus; clients: AmazonClients; log: Logger; prefix: string },
  o: { reportTypes: string[]; tier: Tier; reconciledDays: number },
): Promise<{ requested: number }> {
  const { db, ch, bus, clients, log, prefix } = deps;
  const loader = await startLoader({
    db,
    ch,
    bus,
    clients,
    log,
    rowsPerEvent: 500,
    loadBatchMessages: 20,
    consume: (c) => bus.consume({ ...c, groupId: `${prefix}adsync.${c.groupId}` }),
    consumeDeadLetters: (c) => bus.consumeDeadLetters({ ...c, groupId: `${prefix}adsync.${c.groupId}` }),
  });
  const reconciler = await bus.consume({
    topic: 'report.loaded',
    groupId: `${prefix}adsync.stream-consumer.reconciliation`,
    handle: async (e) =>
      void (await reconcileReport({ db, ch, log, tolerance: { relative: 0.01, moneyMicros: 10_000 } }, e.value)),
  });
  try {
    const run = await requestReports(
      { db, clients, log },
      { runId: randomUUID(), reportTypes: o.reportTypes, tiers: [o.tier] },
    );
    // Polled until loaded, relaying the outbox as the services' relay loop does: a report.loaded
    // queued after the last relay would otherwise never reach the reconciliation.
    await eventually(
      async () => {
        await pollTick({ db, clients, log }, { maxReports: 20, minSpacingMs: 20, maxPolls: 100 });
        await relayOutbox(db, bus);
        const n = await db('stream_reconciled_days').count<{ c: string }[]>('* as c');
        return Number(n[0]!.c) === o.reconciledDays ? true : undefined;
      },
      { what: `${o.reconciledDays} reconciled days`, timeoutMs: 120_000, intervalMs: 100 },
    );
    return { requested: run.requested };
  } finally {
    await reconciler.stop();
    await loader.stop();
  }
}
