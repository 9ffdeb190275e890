import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type DeadLetter } from '../api.ts';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';

type Letter = DeadLetter;
interface Summary {
  selected: number;
  done: number;
  dryRun: boolean;
  skipped: { topic: string; dlq_offset: string; reason: string }[];
}
interface Filter {
  topic: string;
  reason: string;
  from: string;
  to: string;
  state: string;
}

/** What an action did, in a sentence ("replayed 1 of 1 selected"; a dry run says what it would do). Pure. */
export function outcome(s: Summary & { path: 'replay' | 'purge' }): string {
  const verb = s.dryRun ? `Dry run: would ${s.path}` : s.path === 'replay' ? 'replayed' : 'purged';
  const skipped = s.skipped.length ? `; skipped ${s.skipped.length}: ${s.skipped[0]!.reason}` : '';
  return `${verb} ${s.done} of ${s.selected} selected${skipped}.`;
}

const EMPTY: Filter = { topic: '', reason: '', from: '', to: '', state: 'active' };
const LIMIT = 200;

/** The selection an action takes: the letters ticked, else the filter (the API refuses an empty one, with why). */
function selection(f: Filter, ticked: Letter[]) {
  if (ticked.length) return { letters: ticked.map((l) => ({ partition: l.dlq_partition, offset: l.dlq_offset })) };
  return Object.fromEntries(
    Object.entries({ topic: f.topic, reason: f.reason, from: f.from, to: f.to }).filter(([, v]) => v),
  );
}

/** Dead letters by topic, reason and time: dry-run and replay, purge with a confirmation (an admin key's work). */
export function DeadLettersPage() {
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const queries = useQueryClient();
  const query = new URLSearchParams(
    Object.entries({ ...filter, limit: String(LIMIT) }).filter(([, v]) => v) as [string, string][],
  ).toString();
  const letters = useQuery({
    queryKey: ['dead-letters', query],
    queryFn: () => api<{ letters: Letter[] }>('etl-loader', `/v1/dead-letters?${query}`),
  });
  const list = letters.data?.letters ?? [];
  const id = (l: Letter) => `${l.dlq_partition}:${l.dlq_offset}`;
  const chosen = list.filter((l) => ticked.has(id(l)));
  const act = useMutation({
    mutationFn: ({ path, dryRun }: { path: 'replay' | 'purge'; dryRun: boolean }) =>
      api<Summary>('etl-loader', `/v1/dead-letters/${path}`, {
        method: 'POST',
        body: { ...selection(filter, chosen), dryRun },
      }).then((s) => ({ ...s, path })),
    onSuccess: async (s) => {
      setConfirming(false);
      if (!s.dryRun) {
        setTicked(new Set());
        await queries.invalidateQueries({ queryKey: ['dead-letters'] });
      }
    },
  });
  const topics = [...new Set(list.map((l) => l.topic))].sort();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTicked(new Set());
    act.reset();
    setFilter(draft);
  };
  const what = chosen.length ? `${chosen.length} selected letter(s)` : 'every letter the filter matches';
  return (
    <>
      <h1>Dead letters</h1>
      <form className="row" onSubmit={submit} aria-label="Filter">
        <label htmlFor="dl-topic">Topic</label>
        <select id="dl-topic" value={draft.topic} onChange={(e) => setDraft({ ...draft, topic: e.target.value })}>
          <option value="">any</option>
          {[...new Set([...topics, draft.topic].filter(Boolean))].map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label htmlFor="dl-reason">Reason contains</label>
        <input
          id="dl-reason"
          value={draft.reason}
          maxLength={500}
          onChange={(e) => setDraft({ ...draft, reason: e.target.value })}
        />
        <label htmlFor="dl-from">From</label>
        <input
          id="dl-from"
          type="date"
          value={draft.from}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
        <label htmlFor="dl-to">To</label>
        <input id="dl-to" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <label htmlFor="dl-state">State</label>
        <select id="dl-state" value={draft.state} onChange={(e) => setDraft({ ...draft, state: e.target.value })}>
          <option value="active">waiting</option>
          <option value="replayed">replayed</option>
          <option value="purged">purged</option>
          <option value="all">all</option>
        </select>
        <button type="submit">Show</button>
      </form>
      <Problem error={letters.error} />
      {letters.data ? (
        <p role="status">
          {list.length === 0
            ? 'No dead letters match.'
            : `${list.length} dead letter(s)${list.length === LIMIT ? ` (the first ${LIMIT}: narrow the filter)` : ''}.`}
        </p>
      ) : null}
      {list.length ? (
        <Table
          caption="Dead letters, oldest first"
          rows={list}
          rowKey={id}
          columns={[
            {
              header: 'Select',
              cell: (l) => (
                <input
                  type="checkbox"
                  aria-label={`Select the ${l.topic} letter ${l.message_key}`}
                  checked={ticked.has(id(l))}
                  disabled={l.state !== 'active'}
                  onChange={() =>
                    setTicked((s) => {
                      const n = new Set(s);
                      if (n.has(id(l))) n.delete(id(l));
                      else n.add(id(l));
                      return n;
                    })
                  }
                />
              ),
            },
            { header: 'When', cell: (l) => when(l.at) },
            { header: 'Topic', cell: (l) => l.topic },
            { header: 'Reason', cell: (l) => l.reason },
            { header: 'Step', cell: (l) => l.step },
            { header: 'Key', cell: (l) => l.message_key },
            { header: 'State', cell: (l) => (l.state === 'active' ? 'waiting' : l.state) },
          ]}
        />
      ) : null}
      <section aria-labelledby="dl-actions">
        <h2 id="dl-actions">Act on {what}</h2>
        <div className="row">
          <button type="button" disabled={act.isPending} onClick={() => act.mutate({ path: 'replay', dryRun: true })}>
            Dry run a replay
          </button>
          <button type="button" disabled={act.isPending} onClick={() => act.mutate({ path: 'replay', dryRun: false })}>
            Replay
          </button>
          <button type="button" className="danger" disabled={act.isPending} onClick={() => setConfirming(true)}>
            Purge…
          </button>
        </div>
        {confirming ? (
          <div role="alertdialog" aria-labelledby="dl-confirm" className="confirm">
            <p id="dl-confirm">Purge {what}? They leave the waiting list and cannot be replayed from here.</p>
            <button type="button" className="danger" onClick={() => act.mutate({ path: 'purge', dryRun: false })}>
              Yes, purge
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : null}
        {act.data ? (
          <p role="status" className="ok">
            {outcome(act.data)}
          </p>
        ) : null}
        <Problem error={act.error} />
      </section>
    </>
  );
}
