/**
 * Expands what Grafana would before sending a panel's SQL: the time-range macros
 * of the ClickHouse and Postgres data sources and `${var:singlequote}` variables.
 * Pure, so the dashboards test runs exactly the SQL Grafana would.
 */
export interface MacroContext {
  from: Date;
  to: Date;
  variables: Record<string, string[]>;
  dialect: 'clickhouse' | 'postgres';
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const secs = (d: Date) => Math.floor(d.getTime() / 1000);
const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export function expandMacros(sql: string, ctx: MacroContext): string {
  let out = sql.replace(
    /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g,
    (m, a: string | undefined, fmt: string | undefined, b: string | undefined) => {
      const name = a ?? b!;
      if (name.startsWith('__')) return m;
      const values = ctx.variables[name];
      if (!values) throw new Error(`panel uses variable $${name}, which the dashboard does not define`);
      return fmt === 'singlequote' || !fmt ? values.map(quote).join(', ') : values.join(',');
    },
  );
  if (ctx.dialect === 'clickhouse') {
    out = out
      .replace(
        /\$__timeFilter\(([^)]+)\)/g,
        (_m, c: string) => `${c} >= toDateTime(${secs(ctx.from)}) AND ${c} <= toDateTime(${secs(ctx.to)})`,
      )
      .replace(
        /\$__dateFilter\(([^)]+)\)/g,
        (_m, c: string) => `${c} >= toDate('${day(ctx.from)}') AND ${c} <= toDate('${day(ctx.to)}')`,
      )
      .replace(/\$__fromTime/g, `toDateTime(${secs(ctx.from)})`)
      .replace(/\$__toTime/g, `toDateTime(${secs(ctx.to)})`);
  } else {
    out = out
      .replace(
        /\$__timeFilter\(([^)]+)\)/g,
        (_m, c: string) => `${c} BETWEEN '${ctx.from.toISOString()}' AND '${ctx.to.toISOString()}'`,
      )
      .replace(/\$__timeFrom\(\)/g, `'${ctx.from.toISOString()}'`)
      .replace(/\$__timeTo\(\)/g, `'${ctx.to.toISOString()}'`);
  }
  if (/\$__\w+/.test(out)) throw new Error(`unexpanded macro in: ${out.match(/\$__\w+/)![0]}`);
  return out;
}
