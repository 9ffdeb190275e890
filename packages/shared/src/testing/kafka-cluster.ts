/**
 * A three-node Kafka cluster (KRaft, each node broker and controller) on this machine, from the
 * broker jars `deploy/local/stack up` fetched: replication factor 3 and min.insync.replicas 2
 * (deploy/local/kafka/cluster.properties.in), so any one node can die without losing an
 * acknowledged write. The fleet's tests start it on demand; `deploy/local/stack kafka-cluster`
 * runs the same for a person.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const stackDir = process.env.ADSYNC_STACK_DIR ?? join(root, '.stack');

export interface KafkaCluster {
  /** Each node's client address, by node id 1–3 (index 0 is node 1). */
  brokers: string[];
  /** SIGKILL one node (1–3): no shutdown, no flush, as a crashed machine. */
  kill(node: number): void;
  /** Starts a killed node again with its data, and waits until it serves. */
  start(node: number): Promise<void>;
  /** Every node stopped and its data removed. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the three nodes on basePort+2n (clients) and basePort+2n+1 (controllers), n = 1..3. */
export async function startKafkaCluster(opts: { basePort?: number; dir?: string } = {}): Promise<KafkaCluster> {
  const base = opts.basePort ?? 19290;
  const dir = opts.dir ?? join(stackDir, 'kafka-cluster');
  const lib = join(stackDir, 'kafka', 'lib');
  if (!existsSync(lib))
    throw new Error(`no Kafka jars in ${lib}: deploy/local/stack up fetches them (the cluster runs the same Kafka)`);
  const cp = `${lib}/*`;
  const log4j = join(root, 'deploy/local/kafka/log4j2.yaml');
  const nodes = [1, 2, 3];
  const port = (n: number) => base + 2 * n;
  const voters = nodes.map((n) => `${n}@127.0.0.1:${port(n) + 1}`).join(',');
  rmSync(dir, { recursive: true, force: true });
  const clusterId = execFileSync('java', ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const template = readFileSync(join(root, 'deploy/local/kafka/cluster.properties.in'), 'utf8');
  for (const n of nodes) {
    const nodeDir = join(dir, `node-${n}`);
    mkdirSync(nodeDir, { recursive: true });
    writeFileSync(
      join(nodeDir, 'server.properties'),
      template
        .replaceAll('@NODE_ID@', String(n))
        .replaceAll('@VOTERS@', voters)
        .replaceAll('@KAFKA_PORT@', String(port(n)))
        .replaceAll('@CONTROLLER_PORT@', String(port(n) + 1))
        .replaceAll('@DATA_DIR@', join(nodeDir, 'data')),
    );
    execFileSync(
      'java',
      [
        '-cp',
        cp,
        `-Dlog4j2.configurationFile=${log4j}`,
        `-Dkafka.log.file=${join(nodeDir, 'format.log')}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        join(nodeDir, 'server.properties'),
      ],
      { stdio: 'ignore' },
    );
  }
  const pids = new Map<number, number>();
  const launch = async (n: number) => {
    const nodeDir = join(dir, `node-${n}`);
    const logFile = join(nodeDir, 'kafka.log');
    rmSync(logFile, { force: true });
    const out = openSync(join(nodeDir, 'kafka.out'), 'a');
    const child = spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dkafka.log.file=${logFile}`,
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        cp,
        'kafka.Kafka',
        join(nodeDir, 'server.properties'),
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    child.unref();
    pids.set(n, child.pid!);
  };
  const serving = (n: number) => {
    const f = join(dir, `node-${n}`, 'kafka.log');
    return existsSync(f) && readFileSync(f, 'utf8').includes('Kafka Server started');
  };
  const waitServing = async (ns: number[]) => {
    const deadline = Date.now() + 120_000;
    while (!ns.every(serving)) {
      if (Date.now() > deadline) throw new Error(`Kafka nodes ${ns.join(', ')} did not start; see ${dir}`);
      await sleep(250);
    }
  };
  const killNode = (n: number) => {
    const pid = pids.get(n);
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    pids.delete(n);
  };
  for (const n of nodes) await launch(n);
  try {
    await waitServing(nodes);
  } catch (err) {
    for (const n of nodes) killNode(n);
    throw err;
  }
  return {
    brokers: nodes.map((n) => `127.0.0.1:${port(n)}`),
    kill: killNode,
    start: async (n) => {
      await launch(n);
      await waitServing([n]);
    },
    stop: async () => {
      for (const n of nodes) killNode(n);
      await sleep(200);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
