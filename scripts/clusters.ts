/**
 * `deploy/local/stack kafka-cluster|clickhouse-cluster`: the fleet's servers for a person, the
 * same ones its tests start (packages/shared/src/testing/). Runs until Ctrl-C, then removes them.
 */
import { startKafkaCluster } from '@adsync/shared/testing/kafka-cluster';
import { startClickHouseCluster } from '@adsync/shared/testing/clickhouse-cluster';

const which = process.argv[2];
let stop: () => Promise<void>;
if (which === 'kafka') {
  const c = await startKafkaCluster();
  console.log(`three Kafka nodes (RF 3, min.insync.replicas 2): KAFKA_BROKERS=${c.brokers.join(',')}`);
  stop = c.stop;
} else if (which === 'clickhouse') {
  const c = await startClickHouseCluster();
  console.log(
    `two ClickHouse replicas and ZooKeeper: CLICKHOUSE_URL=${c.urls.join(',')} CLICKHOUSE_CLUSTER=${c.cluster}`,
  );
  stop = c.stop;
} else {
  console.error('usage: clusters.ts kafka|clickhouse');
  process.exit(2);
}
console.log('Ctrl-C stops them and removes their data');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop().then(() => process.exit(0)));
setInterval(() => undefined, 1 << 30);
