/**
 * ClickHouse in cluster mode on this machine: one ZooKeeper (Debian's `zookeeper` package, which
 * `deploy/local/stack up` installs) and two ClickHouse servers of the stack's build, one shard of
 * two replicas named `adsync` (deploy/local/clickhouse/cluster.xml.in). The fleet's tests start
 * it on demand; a replica can be killed and started again with its data.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const stackDir = process.env.ADSYNC_STACK_DIR ?? join(root, '.stack');
const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh';

export interface ClickHouseCluster {
  /** The cluster's name, as CLICKHOUSE_CLUSTER gives it. */
  cluster: string;
  /** Each replica's HTTP URL (index 0 is replica 1). */
  urls: string[];
  /** SIGKILL one replica (1 or 2), as a crashed machine. */
  kill(replica: number): void;
  /** Starts a killed replica again with its data, and waits until it answers. */
  start(replica: number): Promise<void>;
  /** Every server stopped and its data removed. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clickhouseBinary(): string {
  for (const b of ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server']) if (existsSync(b)) return b;
  throw new Error('no clickhouse-server: deploy/local/stack up installs it');
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return (await res.text()) === 'Ok.\n';
  } catch {
    return false;
  }
}

/** ZooKeeper's own answer to `ruok`. */
function zookeeperOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000);
    socket.on('connect', () => socket.end('ruok'));
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => resolve(answer === 'imok'));
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => socket.destroy());
  });
}

/** ZooKeeper on basePort, replica n's HTTP, TCP and interserver ports on basePort + 10n + 1..3. */
export async function startClickHouseCluster(
  opts: { basePort?: number; dir?: string } = {},
): Promise<ClickHouseCluster> {
  const base = opts.basePort ?? 19330;
  const dir = opts.dir ?? join(stackDir, 'clickhouse-cluster');
  if (!existsSync(ZK_SERVER))
    throw new Error(`no ZooKeeper at ${ZK_SERVER}: deploy/local/stack up installs Debian's zookeeper package`);
  const bin = clickhouseBinary();
  const replicas = [1, 2];
  const http = (n: number) => base + 10 * n + 1;
  const tcp = (n: number) => base + 10 * n + 2;
  const interserver = (n: number) => base + 10 * n + 3;
  rmSync(dir, { recursive: true, force: true });
  const pids = new Map<string, number>();
  const launch = (name: string, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => {
    const out = openSync(join(cwd, `${name}.out`), 'a');
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    pids.set(name, child.pid!);
  };
  const killName = (name: string) => {
    const pid = pids.get(name);
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    pids.delete(name);
  };

  // ZooKeeper: standalone, its data under dir.
  const zkDir = join(dir, 'zookeeper');
  mkdirSync(join(zkDir, 'data'), { recursive: true });
  writeFileSync(
    join(zkDir, 'zoo.cfg'),
    [
      'tickTime=500',
      `dataDir=${join(zkDir, 'data')}`,
      `clientPort=${base}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok',
      'maxSessionTimeout=60000',
      '',
    ].join('\n'),
  );
  launch('zookeeper', ZK_SERVER, ['start-foreground', join(zkDir, 'zoo.cfg')], zkDir, {
    ...process.env,
    ZOOCFGDIR: zkDir,
    ZOO_LOG_DIR: zkDir,
  });

  // The servers' DDL workers give up on a ZooKeeper that is not there yet: it serves first.
  const zkDeadline = Date.now() + 60_000;
  while (!(await zookeeperOk(base))) {
    if (Date.now() > zkDeadline) {
      killName('zookeeper');
      throw new Error(`ZooKeeper on ${base} did not start; see ${zkDir}`);
    }
    await sleep(250);
  }

  const config = readFileSync(join(root, 'deploy/local/clickhouse/config.xml.in'), 'utf8');
  const cluster = readFileSync(join(root, 'deploy/local/clickhouse/cluster.xml.in'), 'utf8');
  const users = readFileSync(join(root, 'deploy/local/clickhouse/users.xml'), 'utf8');
  const replicaXml = replicas
    .map((n) => `                <replica><host>127.0.0.1</host><port>${tcp(n)}</port></replica>`)
    .join('\n');
  for (const n of replicas) {
    const rDir = join(dir, `replica-${n}`);
    mkdirSync(join(rDir, 'conf', 'config.d'), { recursive: true });
    mkdirSync(join(rDir, 'data'), { recursive: true });
    writeFileSync(join(rDir, 'conf', 'users.xml'), users);
    writeFileSync(
      join(rDir, 'conf', 'config.xml'),
      config
        .replaceAll('@LOG_DIR@', rDir)
        .replaceAll('@HTTP_PORT@', String(http(n)))
        .replaceAll('@TCP_PORT@', String(tcp(n)))
        .replaceAll('@INTERSERVER_PORT@', String(interserver(n)))
        .replaceAll('@DATA_DIR@', join(rDir, 'data'))
        .replaceAll('@CONF_DIR@', join(rDir, 'conf')),
    );
    writeFileSync(
      join(rDir, 'conf', 'config.d', 'cluster.xml'),
      cluster
        .replaceAll('@ZK_PORT@', String(base))
        .replaceAll('@REPLICA@', `r${n}`)
        .replaceAll('@REPLICAS@', replicaXml),
    );
  }
  const urls = replicas.map((n) => `http://127.0.0.1:${http(n)}`);
  const startReplica = (n: number) =>
    launch(
      `replica-${n}`,
      bin,
      [`--config-file=${join(dir, `replica-${n}`, 'conf', 'config.xml')}`],
      join(dir, `replica-${n}`),
    );
  const waitAnswering = async (ns: number[]) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await Promise.all(ns.map((n) => answers(urls[n - 1]!)));
      if (up.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`ClickHouse replicas ${ns.join(', ')} did not start; see ${dir}`);
      await sleep(250);
    }
  };
  const stopAll = () => {
    for (const name of [...pids.keys()]) killName(name);
  };
  try {
    for (const n of replicas) startReplica(n);
    await waitAnswering(replicas);
    // ZooKeeper answers when a replicated table can be made: ask the servers.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(
        `${urls[0]}/?query=${encodeURIComponent("SELECT count() FROM system.zookeeper WHERE path = '/'")}`,
      ).catch(() => null);
      if (res?.ok) break;
      await res?.text();
      if (Date.now() > deadline) throw new Error(`ZooKeeper on ${base} did not answer ClickHouse; see ${zkDir}`);
      await sleep(250);
    }
  } catch (err) {
    stopAll();
    throw err;
  }
  return {
    cluster: 'adsync',
    urls,
    kill: (n) => killName(`replica-${n}`),
    start: async (n) => {
      startReplica(n);
      await waitAnswering([n]);
    },
    stop: async () => {
      stopAll();
      await sleep(200);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
