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

/** The run's own error and each stage's failures, in a line. Pure. */
export function runErrors(r: Pick<IngestionRun, 'error' | 'stages'>): string {
  const out = r.error ? [r.error] : [];
  for (const [name, stage] of Object.entries(r.stages)) {
    const failed = (stage as { failed?: unknown } | null)?.failed;
    if (Array.isArray(failed))
      for (const f of failed as { reason?: string }[]) if (f?.reason) out.push(`${name}: ${f.reason}`);
  }
  return out.join('; ');
}
