import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, type AmcExecution, type AmcResults } from '../api.ts';
import { EXECUTION_DONE, resultColumns, toCsv, windowOf } from '../amc.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 100;
/** The most rows a download fetches a page at a time (the API gives 10,000 a call). */
const DOWNLOAD_PAGE = 10_000;

/** One AMC execution: its status while it runs, then its rows as a table and a CSV download. */
export function AmcExecutionPage() {
  const { id = '' } = useParams();
  const execution = useQuery({
    queryKey: ['amc-execution', id],
    queryFn: () => api<AmcExecution>('amc-runner', `/v1/amc/executions/${encodeURIComponent(id)}`),
    // Asked again until it ends; not when it cannot be read (another account's, or gone).
    refetchInterval: (q) => (q.state.error || (q.state.data && EXECUTION_DONE.has(q.state.data.status)) ? false : 2000),
  });
  const e = execution.data;
  return (
    <>
      <h1>AMC execution</h1>
      <Problem error={execution.error} />
      {e ? (
        <>
          <dl className="facts">
            <dt>Workflow</dt>
            <dd>{e.workflowId}</dd>
            <dt>Instance</dt>
            <dd>
              <Link to={`/amc?instance=${encodeURIComponent(e.instanceId)}`}>{e.instanceId}</Link>
            </dd>
            <dt>Window</dt>
            <dd>{windowOf(e)}</dd>
            <dt>Output</dt>
            <dd>{e.request?.outputFormat ?? ''}</dd>
            <dt>Status</dt>
            <dd>
              <span role="status" aria-live="polite">
                <strong data-testid="amc-status">{e.status}</strong>
                {e.amcStatus ? ` (AMC: ${e.amcStatus})` : ''}
                {e.partial ? ', partial: AMC reported a data gap' : ''}
                {e.failureReason ? ` — ${e.failureReason}` : ''}
              </span>
            </dd>
          </dl>
          {e.warnings.length ? (
            <ul className="warnings">
              {e.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          ) : null}
          {!EXECUTION_DONE.has(e.status) ? <progress aria-label="Execution in progress" /> : null}
          {e.status === 'completed' ? <Results execution={e} /> : null}
        </>
      ) : null}
    </>
  );
}

function Results({ execution }: { execution: AmcExecution }) {
  const [offset, setOffset] = useState(0);
  const results = useQuery({
    queryKey: ['amc-results', execution.id, offset],
    queryFn: () =>
      api<AmcResults>(
        'amc-runner',
        `/v1/amc/executions/${encodeURIComponent(execution.id)}/results?limit=${PAGE}&offset=${offset}`,
      ),
  });
  const download = useMutation({
    mutationFn: async () => {
      const rows: Record<string, unknown>[] = [];
      let declared: unknown = null;
      for (let next: number | null = 0; next !== null;) {
        const page: AmcResults = await api<AmcResults>(
          'amc-runner',
          `/v1/amc/executions/${encodeURIComponent(execution.id)}/results?limit=${DOWNLOAD_PAGE}&offset=${next}`,
        );
        declared = page.columns;
        rows.push(...page.rows);
        // A page with no rows ends it, whatever the count said (rows short of it are not waited for).
        next = page.rows.length ? page.nextOffset : null;
      }
      const url = URL.createObjectURL(new Blob([toCsv(resultColumns(declared, rows), rows)], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${execution.workflowId}-${execution.id}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return rows.length;
    },
  });
  const rows = results.data?.rows ?? [];
  const columns = resultColumns(results.data?.columns ?? execution.columns, rows);
  return (
    <section aria-labelledby="results">
      <h2 id="results">Results</h2>
      <p>
        {execution.row_count ?? rows.length} rows.{' '}
        <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
          {download.isPending ? 'Preparing…' : 'Download CSV'}
        </button>
        {download.data !== undefined ? <span className="ok"> Downloaded {download.data} rows.</span> : null}
      </p>
      <Problem error={results.error ?? download.error} />
      {rows.length ? (
        <Table
          caption="Result rows of the execution"
          testId="amc-results"
          rows={rows.map((row, k) => ({ row, n: offset + k }))}
          rowKey={(r) => String(r.n)}
          columns={columns.map((c) => ({
            header: c,
            cell: (r: { row: Record<string, unknown> }) =>
              r.row[c] === null || r.row[c] === undefined ? '' : String(r.row[c]),
          }))}
        />
      ) : results.data ? (
        <p>The execution returned no rows.</p>
      ) : null}
      <Pager
        page={results.data ? { ...results.data, limit: PAGE, offset } : undefined}
        shown={rows.length}
        onOffset={setOffset}
        label="Results"
      />
    </section>
  );
}
