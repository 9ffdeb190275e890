/**
 * The completeness grid from the gaps API's list: per owner (a profile, or a DSP advertiser
 * account) and report type, each day's state. A day the list does not name is loaded. Pure.
 */
import type { Gap } from './api.ts';

export type { Gap };

export type CellState = 'loaded' | 'in_flight' | 'missing' | 'refused' | 'failed' | 'mismatch';

/** How a gap's kind reads in the grid. */
export function stateOf(kind: string): CellState {
  if (kind === 'in_progress') return 'in_flight';
  if (kind === 'profile_inaccessible' || kind === 'advertiser_inaccessible') return 'refused';
  if (kind === 'failed') return 'failed';
  if (kind === 'stream_mismatch' || kind === 'campaign_missing') return 'mismatch';
  return 'missing';
}

export const STATE_LABEL: Record<CellState, string> = {
  loaded: 'loaded',
  in_flight: 'in flight',
  missing: 'missing',
  refused: 'refused',
  failed: 'failed',
  mismatch: 'differs',
};

/** States a backfill can mend: nothing was loaded, or the report failed. */
export const BACKFILLABLE = new Set<CellState>(['missing', 'failed', 'mismatch']);

export interface Row {
  owner: string;
  profileId: string;
  dspAccountId: string;
  reportType: string;
  cells: { day: string; state: CellState; reason: string }[];
}

export function daysIn(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** One row per owner and report type that has a gap; its days in order. */
export function grid(gaps: Gap[], from: string, to: string): Row[] {
  const days = daysIn(from, to);
  const rows = new Map<string, Row>();
  for (const g of gaps) {
    const owner = g.profileId || `dsp:${g.dspAccountId ?? ''}`;
    const key = `${owner}|${g.reportType}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        owner,
        profileId: g.profileId,
        dspAccountId: g.profileId ? '' : (g.dspAccountId ?? ''),
        reportType: g.reportType,
        cells: days.map((day) => ({ day, state: 'loaded' as CellState, reason: '' })),
      };
      rows.set(key, row);
    }
    const cell = row.cells.find((c) => c.day === g.day);
    if (cell) {
      // A day can have two entries (a mismatch beside a missing day): the one a backfill mends wins.
      const next = stateOf(g.kind);
      if (cell.state === 'loaded' || BACKFILLABLE.has(next)) Object.assign(cell, { state: next, reason: g.reason });
    }
  }
  return [...rows.values()].sort((a, b) => (a.owner + a.reportType < b.owner + b.reportType ? -1 : 1));
}

/** The backfills a selection of cells asks: per owner and type, one per run of consecutive chosen days (never a day not chosen). */
export function backfillsFor(
  selected: { profileId: string; dspAccountId: string; reportType: string; day: string }[],
): { profileId?: string; dspAccountId?: string; reportTypes: string[]; from: string; to: string }[] {
  const by = new Map<string, { profileId: string; dspAccountId: string; reportType: string; days: string[] }>();
  for (const s of selected) {
    const key = `${s.profileId}|${s.dspAccountId}|${s.reportType}`;
    const e = by.get(key) ?? { ...s, days: [] };
    e.days.push(s.day);
    by.set(key, e);
  }
  return [...by.values()].flatMap((e) => {
    const days = [...new Set(e.days)].sort();
    const runs: { from: string; to: string }[] = [];
    for (const d of days) {
      const last = runs[runs.length - 1];
      if (last && Date.parse(`${d}T00:00:00Z`) - Date.parse(`${last.to}T00:00:00Z`) === 86_400_000) last.to = d;
      else runs.push({ from: d, to: d });
    }
    const owner = e.profileId ? { profileId: e.profileId } : { dspAccountId: e.dspAccountId };
    return runs.map((r) => ({ ...owner, reportTypes: [e.reportType], ...r }));
  });
}
