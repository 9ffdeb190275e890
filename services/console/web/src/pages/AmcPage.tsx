import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  api,
  DATA_GAP_POLICIES,
  OUTPUT_FORMATS,
  TIME_WINDOW_TYPES,
  type AmcExecution,
  type AmcInstance,
  type AmcSchedule,
  type Page,
  type Workflow,
} from '../api.ts';
import { EXECUTION_DONE, executionRequest, windowOf } from '../amc.ts';
import { AccountSelect } from './AccountSelect.tsx';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 50;
const enc = encodeURIComponent;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Amazon Marketing Cloud: an instance's workflows, executions and schedules. */
export function AmcPage() {
  const [search, setSearch] = useSearchParams();
  const instanceId = search.get('instance') ?? '';
  const instances = useQuery({
    queryKey: ['amc-instances'],
    queryFn: () => api<{ instances: AmcInstance[] } & Page>('amc-runner', '/v1/amc/instances?limit=1000'),
  });
  const list = instances.data?.instances ?? [];
  // One instance is the usual case: open it at once.
  useEffect(() => {
    if (!instanceId && list.length === 1) setSearch({ instance: list[0]!.instanceId }, { replace: true });
  }, [instanceId, list, setSearch]);
  return (
    <>
      <h1>Amazon Marketing Cloud</h1>
      <Problem error={instances.error} />
      <div className="row">
        <label htmlFor="instance">Instance</label>
        <select id="instance" value={instanceId} onChange={(e) => setSearch({ instance: e.target.value })}>
          <option value="">Choose an instance</option>
          {list.map((i) => (
            <option key={i.instanceId} value={i.instanceId}>
              {i.instanceId} (advertiser {i.advertiserId}, {i.marketplaceId})
            </option>
          ))}
        </select>
      </div>
      {instances.data && list.length === 0 ? <p>No AMC instance is registered yet; register one below.</p> : null}
      {instanceId ? (
        <>
          {/* Keyed by instance: an open editor, confirmation or page never carries over to another. */}
          <Workflows key={`w-${instanceId}`} instanceId={instanceId} />
          <Executions key={`e-${instanceId}`} instanceId={instanceId} />
          <Schedules key={`s-${instanceId}`} instanceId={instanceId} />
        </>
      ) : null}
      <RegisterInstance />
    </>
  );
}

function RegisterInstance() {
  const queries = useQueryClient();
  const [, setSearch] = useSearchParams();
  const [f, setF] = useState({ accountId: '', instanceId: '', advertiserId: '', marketplaceId: '' });
  const register = useMutation({
    mutationFn: () => api<{ instanceId: string }>('amc-runner', '/v1/amc/instances', { method: 'POST', body: f }),
    onSuccess: async (r) => {
      await queries.invalidateQueries({ queryKey: ['amc-instances'] });
      setF({ accountId: f.accountId, instanceId: '', advertiserId: '', marketplaceId: '' });
      setSearch({ instance: r.instanceId });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };
  const field = (k: keyof typeof f, label: string, help: string) => (
    <>
      <label htmlFor={`reg-${k}`}>{label}</label>
      <input
        id={`reg-${k}`}
        required
        value={f[k]}
        onChange={(e) => setF({ ...f, [k]: e.target.value })}
        aria-describedby={`reg-${k}-help`}
      />
      <p id={`reg-${k}-help`} className="help">
        {help}
      </p>
    </>
  );
  return (
    <section aria-labelledby="register">
      <h2 id="register">Register an instance</h2>
      <form className="stack" onSubmit={submit}>
        <AccountSelect id="reg-account" value={f.accountId} onChange={(v) => setF({ ...f, accountId: v })} />
        {field('instanceId', 'Instance id', 'As AMC shows it, e.g. amcabc123.')}
        {field('advertiserId', 'Advertiser id', "The AMC account's advertiser (entity) id.")}
        {field('marketplaceId', 'Marketplace id', 'e.g. ATVPDKIKX0DER for amazon.com.')}
        <button type="submit" disabled={register.isPending}>
          Register
        </button>
      </form>
      <Problem error={register.error} />
    </section>
  );
}

function Workflows({ instanceId }: { instanceId: string }) {
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<Workflow | 'new' | null>(null);
  const [running, setRunning] = useState<Workflow | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const queries = useQueryClient();
  const workflows = useQuery({
    queryKey: ['amc-workflows', instanceId, offset],
    queryFn: () =>
      api<{ items: Workflow[] } & Page>(
        'amc-runner',
        `/v1/amc/workflows?instanceId=${enc(instanceId)}&limit=${PAGE}&offset=${offset}`,
      ),
  });
  const remove = useMutation({
    mutationFn: (workflowId: string) =>
      api<unknown>('amc-runner', `/v1/amc/workflows/${enc(instanceId)}/${enc(workflowId)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      setDeleting(null);
      await queries.invalidateQueries({ queryKey: ['amc-workflows', instanceId] });
    },
  });
  const items = workflows.data?.items ?? [];
  return (
    <section aria-labelledby="workflows">
      <h2 id="workflows">Workflows</h2>
      <Problem error={workflows.error} />
      {workflows.data && items.length === 0 ? <p>No saved workflows on this instance yet.</p> : null}
      {items.length ? (
        <Table
          caption={`Saved workflows of instance ${instanceId}`}
          rows={items}
          rowKey={(w) => w.workflowId}
          columns={[
            { header: 'Workflow', cell: (w) => w.workflowId },
            { header: 'Output', cell: (w) => w.outputFormat },
            { header: 'Data gaps', cell: (w) => w.dataGapPolicy.replace(/_/g, ' ') },
            {
              header: 'Matches AMC',
              cell: (w) => (w.drift === 'drifted' ? 'no: changed in AMC' : w.drift === null ? 'not checked' : 'yes'),
            },
            { header: 'Saved', cell: (w) => when(w.updatedAt) },
            {
              header: 'Actions',
              className: () => 'row',
              cell: (w) => (
                <>
                  <button type="button" onClick={() => setRunning(w)} aria-label={`Run ${w.workflowId}`}>
                    Run…
                  </button>
                  <button type="button" onClick={() => setEditing(w)} aria-label={`Edit ${w.workflowId}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      remove.reset();
                      setDeleting(w.workflowId);
                    }}
                    aria-label={`Delete ${w.workflowId}`}
                  >
                    Delete
                  </button>
                </>
              ),
            },
          ]}
        />
      ) : null}
      <Pager page={workflows.data} shown={items.length} onOffset={setOffset} label="Workflows" />
      {deleting ? (
        <div className="confirm" role="group" aria-label="Confirm deletion">
          <span>
            Delete workflow <strong>{deleting}</strong> in AMC and here? Its past results stay.
          </span>
          <button type="button" className="danger" onClick={() => remove.mutate(deleting)} disabled={remove.isPending}>
            Delete it
          </button>
          <button type="button" onClick={() => setDeleting(null)}>
            Keep it
          </button>
        </div>
      ) : null}
      <Problem error={remove.error} />
      <button type="button" onClick={() => setEditing('new')}>
        New workflow
      </button>
      {editing ? (
        <WorkflowEditor
          key={editing === 'new' ? 'new' : editing.workflowId}
          instanceId={instanceId}
          workflow={editing === 'new' ? null : editing}
          onDone={() => setEditing(null)}
        />
      ) : null}
      {running ? (
        <ExecutionDialog
          workflow={running}
          onClose={() => setRunning(null)}
          onStarted={(warnings) =>
            setStarted(
              `Started ${running.workflowId}.${warnings.length ? ` AMC's caveats: ${warnings.join(' ')}` : ''}`,
            )
          }
        />
      ) : null}
      {started ? (
        <p role="status" className="ok">
          {started}
        </p>
      ) : null}
    </section>
  );
}

function WorkflowEditor({
  instanceId,
  workflow,
  onDone,
}: {
  instanceId: string;
  workflow: Workflow | null;
  onDone: () => void;
}) {
  const queries = useQueryClient();
  const [f, setF] = useState({
    workflowId: workflow?.workflowId ?? '',
    sqlQuery: workflow?.sqlQuery ?? '',
    outputFormat: workflow?.outputFormat ?? 'CSV',
    dataGapPolicy: workflow?.dataGapPolicy ?? 'run_anyway',
    inputParameters: workflow?.inputParameters.length ? JSON.stringify(workflow.inputParameters, null, 2) : '',
  });
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (inputParameters: unknown[] | undefined) => {
      const body = {
        sqlQuery: f.sqlQuery,
        outputFormat: f.outputFormat,
        dataGapPolicy: f.dataGapPolicy,
        // Emptied while editing: the workflow's parameters are removed (left out, they would be kept).
        ...(inputParameters ? { inputParameters } : workflow ? { inputParameters: [] } : {}),
      };
      return workflow
        ? api<Workflow>('amc-runner', `/v1/amc/workflows/${enc(instanceId)}/${enc(workflow.workflowId)}`, {
            method: 'PUT',
            body,
          })
        : api<Workflow>('amc-runner', '/v1/amc/workflows', {
            method: 'POST',
            body: { instanceId, workflowId: f.workflowId, ...body },
          });
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['amc-workflows', instanceId] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    let params: unknown[] | undefined;
    if (f.inputParameters.trim()) {
      try {
        params = JSON.parse(f.inputParameters);
      } catch {
        params = undefined;
      }
      if (!Array.isArray(params))
        return setProblem(
          'Input parameters must be a JSON list, e.g. [{"name": "campaign_ids", "dataType": "ARRAY"}].',
        );
    }
    save.mutate(params);
  };
  return (
    <form className="stack wide" onSubmit={submit} aria-labelledby="editor">
      <h3 id="editor">{workflow ? `Edit ${workflow.workflowId}` : 'New workflow'}</h3>
      {workflow ? null : (
        <>
          <label htmlFor="wf-id">Workflow id</label>
          <input
            id="wf-id"
            required
            pattern="[A-Za-z0-9_.\-]{1,200}"
            value={f.workflowId}
            onChange={(e) => setF({ ...f, workflowId: e.target.value })}
            aria-describedby="wf-id-help"
          />
          <p id="wf-id-help" className="help">
            Letters, digits, periods, dashes and underscores (AMC's rule).
          </p>
        </>
      )}
      <label htmlFor="wf-sql">SQL</label>
      <textarea
        id="wf-sql"
        required
        rows={10}
        spellCheck={false}
        value={f.sqlQuery}
        onChange={(e) => setF({ ...f, sqlQuery: e.target.value })}
      />
      <label htmlFor="wf-format">Output format</label>
      <select
        id="wf-format"
        value={f.outputFormat}
        onChange={(e) => setF({ ...f, outputFormat: e.target.value as Workflow['outputFormat'] })}
      >
        {OUTPUT_FORMATS.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
      <label htmlFor="wf-gaps">When AMC reports a data gap</label>
      <select
        id="wf-gaps"
        value={f.dataGapPolicy}
        onChange={(e) => setF({ ...f, dataGapPolicy: e.target.value as Workflow['dataGapPolicy'] })}
      >
        {DATA_GAP_POLICIES.map((p) => (
          <option key={p} value={p}>
            {p === 'run_anyway'
              ? 'load it, marked partial'
              : p === 'wait_and_rerun'
                ? 'run again until the gap closes'
                : 'fail'}
          </option>
        ))}
      </select>
      <label htmlFor="wf-params">Input parameters (JSON, optional)</label>
      <textarea
        id="wf-params"
        rows={3}
        spellCheck={false}
        value={f.inputParameters}
        onChange={(e) => setF({ ...f, inputParameters: e.target.value })}
      />
      <div className="row">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving in AMC…' : 'Save'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      <Problem error={problem ?? save.error} />
    </form>
  );
}

/** Seed 003's execution modal: window type, start and end, time zone, output format and parameters. */
function ExecutionDialog({
  workflow,
  onClose,
  onStarted,
}: {
  workflow: Workflow;
  onClose: () => void;
  /** The execution was accepted; what AMC's answer warns of (e.g. a window inside its 48-hour lag). */
  onStarted: (warnings: string[]) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const queries = useQueryClient();
  const [f, setFields] = useState({
    timeWindowType: 'EXPLICIT',
    start: '',
    end: '',
    timeZone: 'UTC',
    outputFormat: workflow.outputFormat,
    parameters: '',
  });
  const [problem, setProblem] = useState<string | null>(null);
  // What was wrong is said until the fields change.
  const setF = (next: typeof f) => {
    setProblem(null);
    setFields(next);
  };
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const run = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<{ id: string; warnings?: string[] }>('amc-runner', '/v1/amc/executions', { method: 'POST', body }),
    onSuccess: async (r) => {
      onStarted(r.warnings ?? []);
      await queries.invalidateQueries({ queryKey: ['amc-executions', workflow.instanceId] });
      ref.current?.close();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = executionRequest({ ...f, workflowId: workflow.workflowId, instanceId: workflow.instanceId });
    if ('problem' in r) return setProblem(r.problem);
    setProblem(null);
    run.mutate(r.body);
  };
  const explicit = f.timeWindowType === 'EXPLICIT';
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="run-title" className="dialog">
      <form className="stack" onSubmit={submit}>
        <h3 id="run-title">Run {workflow.workflowId}</h3>
        <label htmlFor="run-type">Time window</label>
        <select id="run-type" value={f.timeWindowType} onChange={(e) => setF({ ...f, timeWindowType: e.target.value })}>
          {TIME_WINDOW_TYPES.map((t) => (
            <option key={t} value={t}>
              {t === 'EXPLICIT' ? 'From a start to an end' : t.toLowerCase().replace(/_/g, ' ')}
            </option>
          ))}
        </select>
        {explicit ? (
          <>
            <label htmlFor="run-start">Start</label>
            <input
              id="run-start"
              type="datetime-local"
              step={1}
              required
              value={f.start}
              onChange={(e) => setF({ ...f, start: e.target.value })}
            />
            <label htmlFor="run-end">End</label>
            <input
              id="run-end"
              type="datetime-local"
              step={1}
              required
              value={f.end}
              onChange={(e) => setF({ ...f, end: e.target.value })}
              aria-describedby="run-end-help"
            />
            <p id="run-end-help" className="help">
              AMC holds about 13 months and is about two days behind: a window ending in the last 48 hours comes back
              incomplete.
            </p>
          </>
        ) : null}
        <label htmlFor="run-tz">Time zone</label>
        <input
          id="run-tz"
          list="time-zones"
          value={f.timeZone}
          onChange={(e) => setF({ ...f, timeZone: e.target.value })}
          aria-describedby="run-tz-help"
        />
        <datalist id="time-zones">
          {['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Tokyo'].map(
            (z) => (
              <option key={z} value={z} />
            ),
          )}
        </datalist>
        <p id="run-tz-help" className="help">
          The window's start and end are in this zone (an IANA name).
        </p>
        <label htmlFor="run-format">Output format</label>
        <select
          id="run-format"
          value={f.outputFormat}
          onChange={(e) => setF({ ...f, outputFormat: e.target.value as Workflow['outputFormat'] })}
        >
          {OUTPUT_FORMATS.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        <label htmlFor="run-params">Parameters (JSON object, optional)</label>
        <textarea
          id="run-params"
          rows={3}
          spellCheck={false}
          placeholder={workflow.inputParameters.length ? `{"${workflow.inputParameters[0]!.name}": …}` : ''}
          value={f.parameters}
          onChange={(e) => setF({ ...f, parameters: e.target.value })}
        />
        <div className="row">
          <button type="submit" disabled={run.isPending}>
            {run.isPending ? 'Starting…' : 'Run'}
          </button>
          <button type="button" className="secondary" onClick={() => ref.current?.close()}>
            Cancel
          </button>
        </div>
        <Problem error={problem ?? run.error} />
      </form>
    </dialog>
  );
}

function Executions({ instanceId }: { instanceId: string }) {
  const [offset, setOffset] = useState(0);
  const executions = useQuery({
    queryKey: ['amc-executions', instanceId, offset],
    queryFn: () =>
      api<{ items: AmcExecution[] } & Page>(
        'amc-runner',
        `/v1/amc/executions?instanceId=${enc(instanceId)}&limit=${PAGE}&offset=${offset}`,
      ),
    // Live status without blocking: asked again every 2 s while any shown execution is unfinished.
    refetchInterval: (q) => (q.state.data?.items.some((e) => !EXECUTION_DONE.has(e.status)) ? 2000 : false),
  });
  const items = executions.data?.items ?? [];
  return (
    <section aria-labelledby="executions">
      <h2 id="executions">Executions</h2>
      <Problem error={executions.error} />
      {executions.data && items.length === 0 ? <p>No executions yet: run a workflow above.</p> : null}
      {items.length ? (
        <Table
          caption={`Executions of instance ${instanceId}, newest first`}
          rows={items}
          rowKey={(e) => e.id}
          columns={[
            { header: 'Workflow', cell: (e) => <Link to={`/amc/executions/${e.id}`}>{e.workflowId}</Link> },
            { header: 'Window', cell: windowOf },
            { header: 'Origin', cell: (e) => e.origin.replace(/_/g, ' ') },
            {
              header: 'Status',
              testId: 'execution-status',
              cell: (e) =>
                `${e.status}${e.partial ? ' (partial)' : ''}${e.failureReason ? `: ${e.failureReason}` : ''}`,
            },
            { header: 'Rows', cell: (e) => e.row_count ?? '' },
            { header: 'Started', cell: (e) => when(e.createdAt) },
          ]}
        />
      ) : null}
      <Pager page={executions.data} shown={items.length} onOffset={setOffset} label="Executions" />
    </section>
  );
}

function Schedules({ instanceId }: { instanceId: string }) {
  const queries = useQueryClient();
  const schedules = useQuery({
    queryKey: ['amc-schedules', instanceId],
    queryFn: () =>
      api<{ items: AmcSchedule[] } & Page>('amc-runner', `/v1/amc/schedules?instanceId=${enc(instanceId)}&limit=1000`),
  });
  const workflows = useQuery({
    queryKey: ['amc-workflows', instanceId, 'all'],
    queryFn: () =>
      api<{ items: Workflow[] } & Page>('amc-runner', `/v1/amc/workflows?instanceId=${enc(instanceId)}&limit=1000`),
  });
  const toggle = useMutation({
    mutationFn: (s: AmcSchedule) =>
      api<AmcSchedule>('amc-runner', `/v1/amc/schedules/${enc(instanceId)}/${enc(s.scheduleId)}`, {
        method: 'PUT',
        body: { enabled: !s.enabled },
      }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['amc-schedules', instanceId] }),
  });
  const [f, setF] = useState({
    scheduleId: '',
    workflowId: '',
    aggregationPeriod: 'Daily',
    aggregationHourUtc: 0,
    aggregationStartDay: '',
  });
  const create = useMutation({
    mutationFn: () =>
      api<AmcSchedule>('amc-runner', '/v1/amc/schedules', {
        method: 'POST',
        body: {
          instanceId,
          scheduleId: f.scheduleId,
          workflowId: f.workflowId,
          aggregationPeriod: f.aggregationPeriod,
          aggregationHourUtc: f.aggregationHourUtc,
          ...(f.aggregationPeriod === 'Weekly' && f.aggregationStartDay
            ? { aggregationStartDay: f.aggregationStartDay }
            : {}),
        },
      }),
    onSuccess: async () => {
      setF({ ...f, scheduleId: '' });
      await queries.invalidateQueries({ queryKey: ['amc-schedules', instanceId] });
    },
  });
  const items = schedules.data?.items ?? [];
  return (
    <section aria-labelledby="schedules">
      <h2 id="schedules">Schedules</h2>
      <Problem error={schedules.error ?? toggle.error} />
      {items.length ? (
        <Table
          caption={`Schedules of instance ${instanceId}`}
          rows={items}
          rowKey={(s) => s.scheduleId}
          columns={[
            { header: 'Schedule', cell: (s) => s.scheduleId },
            { header: 'Workflow', cell: (s) => s.workflowId },
            {
              header: 'Runs',
              cell: (s) =>
                `${s.aggregationPeriod}${s.aggregationStartDay ? ` from ${s.aggregationStartDay}` : ''} at ${String(
                  s.aggregationHourUtc,
                ).padStart(2, '0')}:00 UTC`,
            },
            { header: 'State', cell: (s) => (s.enabled ? 'enabled' : 'disabled') },
            {
              header: 'Action',
              cell: (s) => (
                <button type="button" onClick={() => toggle.mutate(s)} disabled={toggle.isPending}>
                  {s.enabled ? `Disable ${s.scheduleId}` : `Enable ${s.scheduleId}`}
                </button>
              ),
            },
          ]}
        />
      ) : schedules.data ? (
        <p>No schedules on this instance.</p>
      ) : null}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        aria-labelledby="new-schedule"
      >
        <h3 id="new-schedule">New schedule</h3>
        <label htmlFor="sch-id">Schedule id</label>
        <input
          id="sch-id"
          required
          pattern="[A-Za-z0-9_.\-]{1,200}"
          value={f.scheduleId}
          onChange={(e) => setF({ ...f, scheduleId: e.target.value })}
        />
        <label htmlFor="sch-wf">Workflow</label>
        <select id="sch-wf" required value={f.workflowId} onChange={(e) => setF({ ...f, workflowId: e.target.value })}>
          <option value="">Choose a workflow</option>
          {(workflows.data?.items ?? []).map((w) => (
            <option key={w.workflowId}>{w.workflowId}</option>
          ))}
        </select>
        <label htmlFor="sch-period">Every</label>
        <select
          id="sch-period"
          value={f.aggregationPeriod}
          onChange={(e) => setF({ ...f, aggregationPeriod: e.target.value })}
        >
          <option value="Daily">day</option>
          <option value="Weekly">week</option>
        </select>
        {f.aggregationPeriod === 'Weekly' ? (
          <>
            <label htmlFor="sch-day">Starting on</label>
            <select
              id="sch-day"
              value={f.aggregationStartDay}
              onChange={(e) => setF({ ...f, aggregationStartDay: e.target.value })}
            >
              <option value="">today's weekday</option>
              {WEEKDAYS.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <label htmlFor="sch-hour">At hour (UTC)</label>
        <input
          id="sch-hour"
          type="number"
          min={0}
          max={23}
          value={f.aggregationHourUtc}
          onChange={(e) => setF({ ...f, aggregationHourUtc: Number(e.target.value) })}
        />
        <button type="submit" disabled={create.isPending}>
          Create schedule
        </button>
        <Problem error={create.error} />
      </form>
    </section>
  );
}
