// stream-consumer: Amazon Marketing Stream subscriptions, and the hourly records read from the SQS queue
// into ClickHouse; a message leaves the queue only once what it carried is stored.
import { runService } from '@adsync/shared/runtime/service';
import { streamConfigShape } from './config.ts';
import { openQueue } from './queue.ts';
import { ingestTick, ProfileMap } from './ingest.ts';
import { refreshPending } from './subscriptions.ts';
import { registerStreamApi } from './stream-api.ts';
import { reconcileReport } from './reconcile.ts';

await runService({
  name: 'stream-consumer',
  config: streamConfigShape,
  needs: { clickhouse: true, amazon: true, kafka: true },
  listen: (cfg) => ({ host: cfg.STREAM_CONSUMER_HOST, port: cfg.STREAM_CONSUMER_PORT }),
  start: async (rt, app) => {
    const { cfg, db, ch, clients, log } = rt;
    const queue = await openQueue({
      endpoint: cfg.SQS_ENDPOINT,
      region: cfg.SQS_REGION,
      accessKeyId: cfg.SQS_ACCESS_KEY_ID || (cfg.SQS_ENDPOINT ? 'local' : ''),
      secretAccessKey: cfg.SQS_SECRET_ACCESS_KEY || (cfg.SQS_ENDPOINT ? 'local' : ''),
      name: cfg.STREAM_QUEUE_NAME,
      create: cfg.STREAM_CREATE_QUEUE,
    });
    const deps = {
      db,
      ch,
      clients,
      log,
      queue,
      queueName: cfg.STREAM_QUEUE_NAME,
      subscribeUrlHosts: cfg.STREAM_SUBSCRIBE_URL_HOSTS.split(',').map((h) => h.trim()),
    };
    registerStreamApi(app, { db, clients, destinationArn: () => queue.arn });
    const profiles = new ProfileMap(db);
    const shape = {
      receivers: cfg.STREAM_RECEIVERS,
      waitSeconds: cfg.STREAM_WAIT_SECONDS,
      visibilitySec: cfg.STREAM_VISIBILITY_TIMEOUT_SEC,
    };
    rt.loop({
      name: 'queue',
      intervalMs: 10,
      staleAfterMs: 120_000,
      tick: (signal) => ingestTick(deps, profiles, shape, signal),
    });
    rt.loop({ name: 'subscriptions', intervalMs: 60_000, tick: () => refreshPending(db, clients, log) });
    const tolerance = { relative: cfg.STREAM_RECONCILE_TOLERANCE, moneyMicros: 10_000 };
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.stream-consumer.reconciliation',
      handle: async (e) => void (await reconcileReport({ db, ch, log, tolerance }, e.value)),
    });
  },
});
