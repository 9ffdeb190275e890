// stream-consumer: Amazon Marketing Stream subscriptions, and the hourly records read from the SQS queue
// into ClickHouse (a message leaves the queue only once what it carried is stored), reconciled with the
// daily reports as they land.
import { runService } from '@adsync/shared/runtime/service';
import { queueOptions, receiveShape, streamConfigShape } from './config.ts';
import { openQueue } from './queue.ts';
import { ingestTick, ProfileMap } from './ingest.ts';
import { subscriptionsLoop } from './subscriptions.ts';
import { registerStreamApi } from './stream-api.ts';
import { reconcileReport } from './reconcile.ts';
import { SnsGate } from './sns-gate.ts';
import { outboundTrustedOrigins } from '@adsync/shared/config/base-config';

await runService({
  name: 'stream-consumer',
  config: streamConfigShape,
  needs: { clickhouse: true, amazon: true, kafka: true },
  listen: (cfg) => ({ host: cfg.STREAM_CONSUMER_HOST, port: cfg.STREAM_CONSUMER_PORT }),
  start: async (rt, app) => {
    const { cfg, db, ch, clients, log } = rt;
    const queue = await openQueue(queueOptions(cfg));
    registerStreamApi(app, { db, clients, destinationArn: () => queue.arn });
    const sns = new SnsGate({
      hosts: cfg.STREAM_SUBSCRIBE_URL_HOSTS.split(',')
        .map((h) => h.trim())
        .filter(Boolean),
      trustedOrigins: outboundTrustedOrigins(cfg),
      confirmAttempts: cfg.STREAM_CONFIRM_ATTEMPTS,
      acceptRawRecords: cfg.STREAM_ACCEPT_RAW_RECORDS,
    });
    const deps = { db, ch, clients, log, queue, queueName: cfg.STREAM_QUEUE_NAME, sns };
    const profiles = new ProfileMap(db);
    const shape = receiveShape(cfg);
    rt.loop({
      name: 'queue',
      intervalMs: 10,
      staleAfterMs: 120_000,
      tick: (s) => ingestTick(deps, profiles, shape, s),
    });
    rt.loop(subscriptionsLoop(db, clients, log));
    const tolerance = { relative: cfg.STREAM_RECONCILE_TOLERANCE, moneyMicros: 10_000 };
    await rt.consume({
      topic: 'report.loaded',
      groupId: 'adsync.stream-consumer.reconciliation',
      handle: async (e) => void (await reconcileReport({ db, ch, log, tolerance }, e.value)),
    });
  },
});
