import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Page } from '../api.ts';
import { BACKFILLABLE, STATE_LABEL, backfillsFor, daysIn, grid, type Gap } from '../completeness.ts';
import { Problem } from './Problem.tsx';

const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
const PAGE = 1000;

/** Profile × report type × day: what is loaded, missing, refused or in flight, and a backfill of a selection. */
export function CompletenessPage() {
  const [window_, setWindow] = useState({ from: day(14), to: day(1), profileId: '', reportType: '' });
  const [draft, setDraft] = useState(window_);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const queries = useQueryClient();
  const gaps = useQuery({
    queryKey: ['gaps', window_],
    queryFn: () =>
      api<{ gaps: Gap[]; complete: boolean; total?: number } & Page>(
        'report-poller',
        `/v1/reports/gaps?${new URLSearchParams({
          from: window_.from,
          to: window_.to,
          includeInProgress: 'true',
          limit: String(PAGE),
          ...(window_.profileId.trim() ? { profileId: window_.profileId.trim() } : {}),
          ...(window_.reportType.trim() ? { reportType: window_.reportType.trim() } : {}),
        }).toString()}`,
      ),
    refetchInterval: 5000,
  });
  const rows = gaps.data ? grid(gaps.data.gaps, window_.from, window_.to) : [];
  const days = daysIn(window_.from, window_.to);
  const cellKey = (r: { profileId: string; dspAccountId: string; reportType: string }, d: string) =>
    `${r.profileId}|${r.dspAccountId}|${r.reportType}|${d}`;
  const backfill = useMutation({
    mutationFn: async () => {
      const picked = [...chosen].map((k) => {
        const [profileId, dspAccountId, reportType, d] = k.split('|') as [string, string, string, string];
        return { profileId, dspAccountId, reportType, day: d };
      });
      const runs = [];
      for (const body of backfillsFor(picked))
        runs.push(
          await api<{ runId: string; planned: number }>('report-requester', '/v1/reports/backfill', {
            method: 'POST',
            body,
          }),
        );
      return runs;
    },
    onSuccess: async () => {
      setChosen(new Set());
      await queries.invalidateQueries({ queryKey: ['gaps'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setChosen(new Set());
    setWindow(draft);
  };
  const toggle = (k: string) =>
    setChosen((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  return (
    <>
      <h1>Completeness</h1>
      <form className="row" onSubmit={submit} aria-label="Window">
        <label htmlFor="from">From</label>
        <input
          id="from"
          type="date"
          value={draft.from}
          max={draft.to}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
        <label htmlFor="to">To</label>
        <input
          id="to"
          type="date"
          value={draft.to}
          min={draft.from}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />
        <label htmlFor="only-profile">Profile (optional)</label>
        <input
          id="only-profile"
          inputMode="numeric"
          size={16}
          value={draft.profileId}
          onChange={(e) => setDraft({ ...draft, profileId: e.target.value })}
        />
        <label htmlFor="only-type">Report type (optional)</label>
        <input
          id="only-type"
          size={18}
          placeholder="e.g. spCampaigns"
          value={draft.reportType}
          onChange={(e) => setDraft({ ...draft, reportType: e.target.value })}
        />
        <button type="submit">Show</button>
      </form>
      <Problem error={gaps.error} />
      {gaps.data ? (
        <p role="status">
          {gaps.data.complete && rows.every((r) => r.cells.every((c) => c.state === 'loaded'))
            ? `Every profile, report type and day from ${window_.from} to ${window_.to} is loaded.`
            : `${rows.length} profile and report type row(s) have days not loaded; rows not shown are complete.`}
          {gaps.data.nextOffset !== null
            ? ` Only the first ${PAGE} gaps are shown: narrow the window, or show one profile or report type.`
            : ''}
        </p>
      ) : null}
      {rows.length ? (
        <>
          <div className="scroll">
            <table className="grid">
              <caption className="visually-hidden">Each day's state per profile and report type</caption>
              <thead>
                <tr>
                  <th scope="col">Profile</th>
                  <th scope="col">Report type</th>
                  {days.map((d) => (
                    <th scope="col" key={d}>
                      {d.slice(5)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.owner}|${r.reportType}`}>
                    <th scope="row">{r.profileId || `DSP advertiser ${r.dspAccountId}`}</th>
                    <td>{r.reportType}</td>
                    {r.cells.map((c) => {
                      const k = cellKey(r, c.day);
                      const label = `${r.reportType} ${c.day} for ${r.profileId || r.dspAccountId}: ${STATE_LABEL[c.state]}${c.reason ? ` (${c.reason})` : ''}`;
                      return (
                        <td key={c.day} className={`cell ${c.state}`} title={c.reason || STATE_LABEL[c.state]}>
                          {BACKFILLABLE.has(c.state) ? (
                            <label>
                              <input
                                type="checkbox"
                                checked={chosen.has(k)}
                                onChange={() => toggle(k)}
                                aria-label={`Select ${label}`}
                              />
                              <span aria-hidden="true">{STATE_LABEL[c.state]}</span>
                            </label>
                          ) : (
                            <>
                              <span aria-hidden="true">{c.state === 'loaded' ? '✓' : STATE_LABEL[c.state]}</span>
                              <span className="visually-hidden">{label}</span>
                            </>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <button type="button" disabled={chosen.size === 0 || backfill.isPending} onClick={() => backfill.mutate()}>
              {backfill.isPending ? 'Asking Amazon…' : `Backfill ${chosen.size} selected day(s)`}
            </button>
            {backfill.data ? (
              <p role="status" className="ok">
                Backfill asked: {backfill.data.reduce((n, r) => n + r.planned, 0)} report(s) planned. The days show as
                in flight until loaded.
              </p>
            ) : null}
          </div>
          <Problem error={backfill.error} />
        </>
      ) : null}
    </>
  );
}
