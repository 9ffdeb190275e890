import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, JOB_STATUSES, JOB_TYPES, type Page, type Supplier, type SupplierJob, type Webhook } from '../api.ts';
import { AccountSelect } from './AccountSelect.tsx';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 50;
const words = (s: string) => s.replace(/_/g, ' ');

/** What each supplier kind signs in with (its connector's credentials), as form fields. */
const CREDENTIALS: Record<string, { key: string; label: string }[]> = {
  bigbuy: [{ key: 'apiKey', label: 'API key' }],
  aliexpress: [
    { key: 'appKey', label: 'App key' },
    { key: 'appSecret', label: 'App secret' },
    { key: 'accessToken', label: 'Access token' },
  ],
};

/** Dropshipping suppliers: their jobs by status with errors, a job started now, and webhooks. */
export function SuppliersPage() {
  const suppliers = useQuery({
    queryKey: ['suppliers'],
    queryFn: () => api<{ suppliers: Supplier[] } & Page>('supplier-sync', '/v1/suppliers?limit=1000'),
  });
  const names = new Map((suppliers.data?.suppliers ?? []).map((s) => [s.id, s.name]));
  return (
    <>
      <h1>Suppliers</h1>
      <Problem error={suppliers.error} />
      <SupplierList suppliers={suppliers.data?.suppliers} />
      <Jobs names={names} />
      <Webhooks />
      <AddSupplier />
    </>
  );
}

function SupplierList({ suppliers }: { suppliers: Supplier[] | undefined }) {
  const queries = useQueryClient();
  const [jobType, setJobType] = useState<Record<string, string>>({});
  const [started, setStarted] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: (s: Supplier) =>
      api<{ id: string; status: string }>('supplier-sync', '/v1/jobs', {
        method: 'POST',
        body: { supplierId: s.id, jobType: jobType[s.id] ?? 'inventory_update' },
      }),
    onSuccess: async (r, s) => {
      const t = words(jobType[s.id] ?? 'inventory_update');
      setStarted(`Started ${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t} job for ${s.name}.`);
      await queries.invalidateQueries({ queryKey: ['supplier-jobs'] });
    },
  });
  if (!suppliers) return null;
  if (suppliers.length === 0) return <p>No suppliers yet; add one below.</p>;
  return (
    <section aria-labelledby="suppliers">
      <h2 id="suppliers">Start a job</h2>
      <Table
        caption="Suppliers, and a job to start for each"
        rows={suppliers}
        rowKey={(s) => s.id}
        columns={[
          { header: 'Supplier', cell: (s) => s.name },
          { header: 'Kind', cell: (s) => s.kind },
          { header: 'State', cell: (s) => (s.active ? 'active' : 'inactive') },
          {
            header: 'Job',
            className: () => 'row',
            cell: (s) => (
              <>
                <label htmlFor={`job-${s.id}`} className="visually-hidden">
                  Job type for {s.name}
                </label>
                <select
                  id={`job-${s.id}`}
                  value={jobType[s.id] ?? 'inventory_update'}
                  onChange={(e) => setJobType({ ...jobType, [s.id]: e.target.value })}
                >
                  {JOB_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {words(t)}
                    </option>
                  ))}
                </select>
                <button type="button" onClick={() => start.mutate(s)} disabled={start.isPending}>
                  Start job for {s.name}
                </button>
              </>
            ),
          },
        ]}
      />
      {started ? (
        <p role="status" className="ok">
          {started}
        </p>
      ) : null}
      <Problem error={start.error} />
    </section>
  );
}

function Jobs({ names }: { names: Map<string, string> }) {
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const jobs = useQuery({
    queryKey: ['supplier-jobs', status, offset],
    queryFn: () =>
      api<{ jobs: SupplierJob[] } & Page>(
        'supplier-sync',
        `/v1/jobs?limit=${PAGE}&offset=${offset}${status ? `&status=${status}` : ''}`,
      ),
    // Jobs still to run are asked again every 2 s, so their outcome shows without a reload.
    refetchInterval: (q) =>
      q.state.data?.jobs.some((j) => j.status === 'pending' || j.status === 'running') ? 2000 : false,
  });
  const items = jobs.data?.jobs ?? [];
  return (
    <section aria-labelledby="jobs">
      <h2 id="jobs">Jobs</h2>
      <div className="row">
        <label htmlFor="job-status">Status</label>
        <select
          id="job-status"
          value={status}
          onChange={(e) => {
            setOffset(0);
            setStatus(e.target.value);
          }}
        >
          <option value="">any</option>
          {JOB_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </div>
      <Problem error={jobs.error} />
      {jobs.data && items.length === 0 ? <p>No jobs{status ? ` ${status}` : ''}.</p> : null}
      {items.length ? (
        <Table
          caption="Supplier jobs, newest first"
          rows={items}
          rowKey={(j) => j.id}
          columns={[
            { header: 'Supplier', cell: (j) => names.get(j.supplier_id) ?? j.supplier_id },
            { header: 'Job', cell: (j) => `${words(j.job_type)} (${j.trigger})` },
            { header: 'Status', cell: (j) => j.status, testId: 'job-status' },
            { header: 'Attempt', cell: (j) => `${j.attempt} of ${j.max_attempts}` },
            {
              header: 'Counts',
              cell: (j) =>
                j.counts
                  ? Object.entries(j.counts)
                      .filter(([, v]) => typeof v === 'number')
                      .map(([k, v]) => `${words(k)}: ${String(v)}`)
                      .join(', ')
                  : '',
            },
            { header: 'Error', cell: (j) => j.error ?? '', className: (j) => (j.error ? 'problem' : undefined) },
            { header: 'Created', cell: (j) => when(j.created_at) },
          ]}
        />
      ) : null}
      <Pager page={jobs.data} shown={items.length} onOffset={setOffset} label="Jobs" />
    </section>
  );
}

function Webhooks() {
  const queries = useQueryClient();
  const webhooks = useQuery({
    queryKey: ['webhooks'],
    queryFn: () => api<{ webhooks: Webhook[] } & Page>('supplier-sync', '/v1/webhooks?limit=1000'),
  });
  const [f, setF] = useState({ accountId: '', url: '', secret: '' });
  const add = useMutation({
    mutationFn: () => api<{ id: string }>('supplier-sync', '/v1/webhooks', { method: 'POST', body: f }),
    onSuccess: async () => {
      setF({ ...f, url: '', secret: '' });
      await queries.invalidateQueries({ queryKey: ['webhooks'] });
    },
  });
  const items = webhooks.data?.webhooks ?? [];
  return (
    <section aria-labelledby="webhooks">
      <h2 id="webhooks">Webhooks</h2>
      <p className="help">Each finished job is posted to these receivers, signed with their secret.</p>
      <Problem error={webhooks.error} />
      {items.length ? (
        <Table
          caption="Webhook receivers and their deliveries"
          rows={items}
          rowKey={(w) => w.id}
          columns={[
            { header: 'URL', cell: (w) => w.url },
            { header: 'Delivered', cell: (w) => w.delivered },
            { header: 'Waiting', cell: (w) => w.pending },
            { header: 'Given up', cell: (w) => w.failed },
            { header: 'Last error', cell: (w) => w.last_error ?? '' },
          ]}
        />
      ) : webhooks.data ? (
        <p>No webhooks.</p>
      ) : null}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
        aria-labelledby="new-webhook"
      >
        <h3 id="new-webhook">Add a webhook</h3>
        <AccountSelect id="wh-account" value={f.accountId} onChange={(v) => setF({ ...f, accountId: v })} />
        <label htmlFor="wh-url">URL</label>
        <input id="wh-url" type="url" required value={f.url} onChange={(e) => setF({ ...f, url: e.target.value })} />
        <label htmlFor="wh-secret">Signing secret</label>
        <input
          id="wh-secret"
          type="password"
          autoComplete="off"
          required
          minLength={16}
          value={f.secret}
          onChange={(e) => setF({ ...f, secret: e.target.value })}
          aria-describedby="wh-secret-help"
        />
        <p id="wh-secret-help" className="help">
          At least 16 characters; kept encrypted, never shown again.
        </p>
        <button type="submit" disabled={add.isPending}>
          Add webhook
        </button>
        <Problem error={add.error} />
      </form>
    </section>
  );
}

function AddSupplier() {
  const queries = useQueryClient();
  const [accountId, setAccountId] = useState('');
  const [kind, setKind] = useState('bigbuy');
  const [name, setName] = useState('');
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const add = useMutation({
    mutationFn: () =>
      api<Supplier>('supplier-sync', '/v1/suppliers', {
        method: 'POST',
        body: {
          accountId,
          kind,
          name,
          credentials: Object.fromEntries(CREDENTIALS[kind]!.map((c) => [c.key, secrets[c.key] ?? ''])),
        },
      }),
    onSuccess: async () => {
      setName('');
      setSecrets({});
      await queries.invalidateQueries({ queryKey: ['suppliers'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <section aria-labelledby="add-supplier">
      <h2 id="add-supplier">Add a supplier</h2>
      <form className="stack" onSubmit={submit}>
        <AccountSelect id="sup-account" value={accountId} onChange={setAccountId} />
        <label htmlFor="sup-kind">Supplier</label>
        <select id="sup-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="bigbuy">BigBuy</option>
          <option value="aliexpress">AliExpress</option>
        </select>
        <label htmlFor="sup-name">Name</label>
        <input id="sup-name" required value={name} onChange={(e) => setName(e.target.value)} />
        {CREDENTIALS[kind]!.map((c) => (
          <div key={c.key} className="stack">
            <label htmlFor={`sup-${c.key}`}>{c.label}</label>
            <input
              id={`sup-${c.key}`}
              type="password"
              autoComplete="off"
              required
              value={secrets[c.key] ?? ''}
              onChange={(e) => setSecrets({ ...secrets, [c.key]: e.target.value })}
            />
          </div>
        ))}
        <p className="help">Credentials are kept encrypted and never shown again.</p>
        <button type="submit" disabled={add.isPending}>
          Add supplier
        </button>
        <Problem error={add.error} />
      </form>
    </section>
  );
}
