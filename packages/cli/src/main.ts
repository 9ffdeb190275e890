#!/usr/bin/env node
// adsync: the operator's command line over the services' HTTP APIs (pnpm adsync help).
import { parseArgs } from 'node:util';
import { apiConfigFrom, createApi, ApiError } from './api.ts';
import * as c from './commands.ts';
import type { Output } from './commands.ts';

const HELP = `adsync — run adsync like an operator

  adsync status                                   services, consumer lag, queues, dead letters, accounts
  adsync accounts [list]                          accounts, their live profiles and last sync
  adsync accounts create NAME [--email E]
  adsync dsp ACCOUNT_ID [--discover] [--entities] the account's Amazon DSP advertisers (--discover asks Amazon first;
                                                  --entities syncs their campaigns, ad groups, ads and targets)
  adsync connect ACCOUNT_ID [--region NA|EU|FE] [--no-wait]
                                                  the consent link for the advertiser; waits until allowed
  adsync sync ACCOUNT_ID [--no-wait]              profiles, entities and reports for one account, with progress
  adsync backfill --from YYYY-MM-DD --to YYYY-MM-DD [--profile ID | --account ID] [--types a,b] [--no-wait]
  adsync gaps --from YYYY-MM-DD --to YYYY-MM-DD [--profile ID] [--type T]
  adsync dlq list   [--topic T] [--reason TEXT] [--from D] [--to D] [--state active|replayed|purged|all]
  adsync dlq replay [--topic T] [--reason TEXT] [--from D] [--to D] [--limit N] [--dry-run]
  adsync dlq purge  [--topic T] [--reason TEXT] [--from D] [--to D] [--limit N] [--dry-run]

  --json   print the result as JSON (for scripts)
Environment: ADSYNC_API_KEY (default: the demo's admin key), ADSYNC_<SERVICE>_URL
(e.g. ADSYNC_ENTITY_SYNC_URL; default http://127.0.0.1:8081…8086), PROMETHEUS_URL for lag and queues
(default http://127.0.0.1:19090).`;

export function terminalOutput(json: boolean, stream: NodeJS.WriteStream = process.stdout): Output {
  let lastProgress = '';
  const tty = Boolean(stream.isTTY) && !json;
  return {
    json,
    line: (text) => {
      if (json) return;
      if (tty && lastProgress) stream.write('\n');
      lastProgress = '';
      stream.write(`${text}\n`);
    },
    progress: (label, done, total, detail) => {
      if (json) return;
      const text = `${label} ${c.bar(done, total)}${detail ? `  ${detail}` : ''}`;
      if (text === lastProgress) return;
      if (tty) stream.write(`\r\x1b[2K${text}`);
      else stream.write(`${text}\n`);
      lastProgress = text;
    },
    result: (value, human) => {
      if (tty && lastProgress) stream.write('\n');
      lastProgress = '';
      if (json || !human) stream.write(`${JSON.stringify(value, null, json ? 2 : 0)}\n`);
      else human();
    },
  };
}

export async function run(argv: string[], env: Record<string, string | undefined>, out?: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      region: { type: 'string', default: 'NA' },
      'no-wait': { type: 'boolean', default: false },
      email: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      profile: { type: 'string' },
      account: { type: 'string' },
      types: { type: 'string' },
      type: { type: 'string' },
      topic: { type: 'string' },
      reason: { type: 'string' },
      state: { type: 'string' },
      limit: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      discover: { type: 'boolean', default: false },
      entities: { type: 'boolean', default: false },
    },
  });
  const o = out ?? terminalOutput(values.json);
  const deps = {
    api: createApi(apiConfigFrom(env)),
    out: o,
    prometheusUrl: env.PROMETHEUS_URL ?? 'http://127.0.0.1:19090',
  };
  const [cmd, sub, arg] = positionals;
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new UsageError(`${what} is required`);
    return v;
  };
  const wait = !values['no-wait'];
  const selection = {
    topic: values.topic,
    reason: values.reason,
    from: values.from,
    to: values.to,
    state: values.state,
    limit: values.limit === undefined ? undefined : Number(values.limit),
    dryRun: values['dry-run'],
  };
  try {
    if (values.help || !cmd || cmd === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    switch (cmd) {
      case 'status':
        await c.status(deps);
        break;
      case 'accounts':
        if (!sub || sub === 'list') await c.accountsList(deps);
        else if (sub === 'create') await c.accountsCreate(deps, need(arg, 'NAME'), values.email);
        else throw new UsageError(`unknown accounts command ${sub}`);
        break;
      case 'dsp':
        await c.dspAdvertisers(deps, need(sub, 'ACCOUNT_ID'), values.discover, values.entities);
        break;
      case 'connect':
        await c.connect(deps, need(sub, 'ACCOUNT_ID'), values.region, wait);
        break;
      case 'sync':
        await c.sync(deps, need(sub, 'ACCOUNT_ID'), wait);
        break;
      case 'backfill':
        await c.backfill(deps, {
          from: need(values.from, '--from'),
          to: need(values.to, '--to'),
          profileId: values.profile,
          accountId: values.account,
          reportTypes: values.types?.split(',').filter(Boolean),
          wait,
        });
        break;
      case 'gaps':
        await c.gaps(deps, {
          from: need(values.from, '--from'),
          to: need(values.to, '--to'),
          profileId: values.profile,
          reportType: values.type,
        });
        break;
      case 'dlq':
        if (sub === 'list' || !sub) await c.dlqList(deps, selection);
        else if (sub === 'replay') await c.dlqReplay(deps, selection);
        else if (sub === 'purge') await c.dlqPurge(deps, selection);
        else throw new UsageError(`unknown dlq command ${sub}`);
        break;
      default:
        throw new UsageError(`unknown command ${cmd}`);
    }
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`adsync: ${err.message}\n\n${HELP}\n`);
      return 64;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`adsync: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

class UsageError extends Error {}

if (import.meta.main) process.exitCode = await run(process.argv.slice(2), process.env);
