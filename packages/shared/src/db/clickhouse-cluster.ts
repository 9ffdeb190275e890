/**
 * ClickHouse cluster mode (CLICKHOUSE_CLUSTER): one shard of replicas sharing ZooKeeper. The
 * migrations are written for one server; here each statement becomes its replicated form.
 * Pure.
 *
 *  - Tables and views are created, dropped and renamed ON CLUSTER (each server keeps its own
 *    metadata), and every *MergeTree becomes Replicated*MergeTree at
 *    /clickhouse/tables/{shard}/<database>/<table>, replica {replica} (the servers' macros).
 *  - ALTER (columns, DELETE) and INSERT … SELECT run on one replica: ReplicatedMergeTree carries
 *    column changes, mutations and inserted parts to the others through ZooKeeper itself. An
 *    ALTER sent ON CLUSTER as well would be applied twice.
 *
 * One shard only: FINAL and the restatement delete need every version of a key on one server,
 * so more shards would need a Distributed table sharded by owner, which this does not build.
 */

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The ZooKeeper path of a replicated table. */
export const replicaPath = (database: string, table: string): string =>
  `/clickhouse/tables/{shard}/${database}/${table}`;

/**
 * A migration statement as cluster mode applies it; throws for a statement it cannot place.
 * What runs ON CLUSTER names its tables with their database: each server runs it in its own
 * default database otherwise.
 */
export function clusterStatement(sql: string, cluster: string, database: string): string {
  if (!IDENT.test(cluster)) throw new Error(`CLICKHOUSE_CLUSTER ${JSON.stringify(cluster)} is not a cluster name`);
  if (!IDENT.test(database)) throw new Error(`${JSON.stringify(database)} is not a database name`);
  const on = ` ON CLUSTER ${cluster}`;
  const q = (name: string) => (name.includes('.') ? name : `${database}.${name}`);
  const create = /^(CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?)([A-Za-z_][A-Za-z0-9_]*)\b/i.exec(sql);
  if (create) {
    const table = create[2]!;
    const body = sql.slice(create[0].length);
    const engine = /ENGINE\s*=\s*(\w*)MergeTree\s*\(([^)]*)\)/i.exec(body);
    if (!engine) throw new Error(`cluster mode: ${table} is not a MergeTree table, so it cannot be replicated`);
    if (/^Replicated/i.test(engine[1]!)) throw new Error(`cluster mode: ${table} is already replicated`);
    const args = [
      `'${replicaPath(database, table)}'`,
      `'{replica}'`,
      ...(engine[2]!.trim() ? [engine[2]!.trim()] : []),
    ];
    const replicated = `ENGINE = Replicated${engine[1]}MergeTree(${args.join(', ')})`;
    return `${create[1]}${q(table)}${on}${body.replace(engine[0], replicated)}`;
  }
  const view = /^(CREATE\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?)([A-Za-z_][A-Za-z0-9_]*)\b/i.exec(sql);
  if (view) {
    // The tables the view reads, named with their database too.
    const select = sql
      .slice(view[0].length)
      .replace(/\b(FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/gi, (_, kw: string, t: string) => `${kw} ${q(t)}`);
    return `${view[1]}${q(view[2]!)}${on}${select}`;
  }
  const drop = /^(DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?)([A-Za-z_][A-Za-z0-9_]*)\b/i.exec(sql);
  if (drop) return `${drop[1]}${q(drop[2]!)}${on}${sql.slice(drop[0].length)}`;
  const rename = /^RENAME\s+TABLE\s+(.+)$/is.exec(sql);
  if (rename) {
    const pairs = rename[1]!.split(',').map((p) => {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+TO\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$/i.exec(p);
      if (!m) throw new Error(`cluster mode cannot read the rename ${p.trim()}`);
      return `${q(m[1]!)} TO ${q(m[2]!)}`;
    });
    return `RENAME TABLE ${pairs.join(', ')}${on}`;
  }
  if (/^(ALTER\s+TABLE|INSERT\s+INTO)\s/i.test(sql)) return sql;
  throw new Error(`cluster mode does not know where to apply: ${sql.slice(0, 60)}`);
}
