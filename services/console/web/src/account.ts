/** What the account page computes: a changed selection, a run's errors in a line. Pure. */
import type { IngestionRun } from './api.ts';

/** A profile selection as PUT takes it; the fields the pages change are typed. */
export type SelectionBody = {
  includeProfileIds?: string[];
  excludeProfileIds?: string[];
  includeDspAdvertiserIds?: string[];
  excludeDspAdvertiserIds?: string[];
  [k: string]: unknown;
};

const FIELDS = {
  profile: { include: 'includeProfileIds', exclude: 'excludeProfileIds' },
  dspAdvertiser: { include: 'includeDspAdvertiserIds', exclude: 'excludeDspAdvertiserIds' },
} as const;

/**
 * The selection with one profile (or DSP advertiser) synced or left out. Left out: its id joins
 * the exclusions. Synced: it leaves them, and joins an include list when there is one (an include
 * list syncs only what it names). An empty list is not sent. Pure.
 */
export function withChoice(
  current: SelectionBody | undefined,
  kind: keyof typeof FIELDS,
  id: string,
  synced: boolean,
): SelectionBody {
  const { include, exclude } = FIELDS[kind];
  const next: SelectionBody = { ...(current ?? {}) };
  const excluded = new Set(next[exclude] ?? []);
  if (synced) excluded.delete(id);
  else excluded.add(id);
  if (excluded.size) next[exclude] = [...excluded];
  else delete next[exclude];
  if (synced && next[include]?.length && !next[include].includes(id)) next[include] = [...next[include], id];
  return next;
}

/** The run's own error and each stage's failures and skips with their reasons, in a line. Pure. */
export function runErrors(r: Pick<IngestionRun, 'error' | 'stages'>): string {
  const out = r.error ? [r.error] : [];
  for (const [name, stage] of Object.entries(r.stages)) {
    // What failed, and what was left out with a reason (a profile another sync held, a refused login).
    for (const list of ['failed', 'skipped'] as const) {
      const items = (stage as Record<string, unknown> | null)?.[list];
      if (Array.isArray(items))
        for (const f of items as { reason?: string }[]) if (f?.reason) out.push(`${name}: ${f.reason}`);
    }
  }
  return out.join('; ');
}
