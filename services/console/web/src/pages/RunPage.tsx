import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, type IngestionRun } from '../api.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';

const DONE = new Set(['succeeded', 'partial', 'failed']);

/** The stages in the order a run goes through them; any other after them. */
const ORDER = ['profiles', 'entities', 'reports'];
const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);

/** What a stage says besides its status, in words ("already in flight: 0"). Pure. */
export function stageDetail(stage: Record<string, unknown>): string {
  return Object.entries(stage)
    .filter(([k, v]) => k !== 'status' && v !== null && v !== undefined && typeof v !== 'object')
    .map(
      ([k, v]) =>
        `${k
          .replace(/_/g, ' ')
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toLowerCase()}: ${String(v)}`,
    )
    .join(', ');
}

export function RunPage() {
  const { id = '' } = useParams();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => api<IngestionRun>('entity-sync', `/v1/ingestion/runs/${encodeURIComponent(id)}`),
    // Progress without a reload: asked again every second until the run ends.
    refetchInterval: (q) => (q.state.data && DONE.has(q.state.data.status) ? false : 1000),
  });
  const r = run.data;
  return (
    <>
      <h1>Ingestion run</h1>
      <Problem error={run.error} />
      {r ? (
        <>
          <p role="status" aria-live="polite">
            Status: <strong data-testid="run-status">{r.status}</strong>
            {(r.attempt ?? 1) > 1 ? ` (attempt ${r.attempt})` : ''}
            {r.error ? ` — ${r.error}` : ''}
          </p>
          {!DONE.has(r.status) ? <progress aria-label="Ingestion in progress" /> : null}
          <Table
            caption="Stages of the run"
            rows={Object.entries(r.stages as Record<string, Record<string, unknown>>).sort(
              ([a], [b]) => rank(a) - rank(b),
            )}
            rowKey={([name]) => name}
            columns={[
              { header: 'Stage', cell: ([name]) => name },
              { header: 'Status', cell: ([, stage]) => String(stage.status ?? '') },
              { header: 'Detail', cell: ([, stage]) => stageDetail(stage) },
            ]}
          />
          {r.account_id ? <Link to={`/accounts/${r.account_id}`}>Back to the account</Link> : null}
        </>
      ) : null}
    </>
  );
}
