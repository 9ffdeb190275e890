/**
 * The README's test command runs this. Integration tests use real servers:
 *  - when the environment names them (KAFKA_BROKERS, DATABASE_URL, CLICKHOUSE_URL,
 *    SCHEMA_REGISTRY_URL — what `deploy/local/stack env` exports), those are used;
 *  - otherwise, where a Docker engine answers, testcontainers starts Kafka,
 *    Postgres, ClickHouse and the Schema Registry for the run and stops them afterwards;
 *  - otherwise the tests fail with a message saying how to start the stack. Never a skip.
 * Arguments are passed to `node --test` (default: every test file).
 */
import { spawn, spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const files = args.length ? args : ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'];
const env: Record<string, string | undefined> = { ...process.env };
const stops: (() => Promise<unknown>)[] = [];

const named = Boolean(process.env.KAFKA_BROKERS && process.env.DATABASE_URL && process.env.CLICKHOUSE_URL);
const dockerEngine = !named && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;

if (dockerEngine) {
  console.log(
    'no stack addresses in the environment and a Docker engine answers: starting Kafka, Postgres, ClickHouse and the Schema Registry with testcontainers',
  );
  const { GenericContainer, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
  const [kafka, pg, ch, registry] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.1').withKraft().start(),
    new PostgreSqlContainer('postgres:15').withUsername('adsync').withPassword('adsync').withDatabase('adsync').start(),
    new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start(),
    new GenericContainer('apicurio/apicurio-registry:3.0.9')
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
      .start(),
  ]);
  stops.push(
    () => kafka.stop(),
    () => pg.stop(),
    () => ch.stop(),
    () => registry.stop(),
  );
  env.SCHEMA_REGISTRY_URL = `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`;
  env.KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  env.DATABASE_URL = pg.getConnectionUri();
  env.CLICKHOUSE_URL = ch.getHttpUrl();
  env.CLICKHOUSE_USER = ch.getUsername();
  env.CLICKHOUSE_PASSWORD = ch.getPassword();
  env.CLICKHOUSE_DATABASE = 'adsync';
} else if (!named) {
  console.log(
    'no stack addresses in the environment and no Docker engine: the integration tests will fail until you run `deploy/local/stack up` and use `deploy/local/stack test`',
  );
}

const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  env,
});
const code: number = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
for (const stop of stops)
  await stop().catch((err) => console.error(`stopping a container failed: ${(err as Error).message}`));
process.exit(code);
