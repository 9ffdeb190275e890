/** What the account page computes: a changed selection, a run's errors in a line. Pure. */
import type { IngestionRun } from './api.ts';

/** A profile selection as PUT takes it; the fields the pages change are typed. */
export type SelectionBody = { excludeProfileIds?: string[]; excludeDspAdvertiserIds?: string[]; [k: string]: unknown };

/** The selection with one id left out (synced: false) or no longer left out, under `field`. Pure. */
export function withChoice(
  current: SelectionBody | undefined,
  field: 'excludeProfileIds' | 'excludeDspAdvertiserIds',
  id: string,
  synced: boolean,
): SelectionBody {
  const excluded = new Set(current?.[field] ?? []);
  if (synced) excluded.delete(id);
  else excluded.add(id);
  const { [field]: _, ...rest } = current ?? {};
  return { ...rest, ...(excluded.size ? { [field]: [...excluded] } : {}) };
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
