import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Account, type Page } from '../api.ts';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 25;

export function AccountsPage() {
  const [offset, setOffset] = useState(0);
  const accounts = useQuery({
    queryKey: ['accounts', offset],
    queryFn: () => api<{ accounts: Account[] } & Page>('entity-sync', `/v1/accounts?limit=${PAGE}&offset=${offset}`),
  });
  return (
    <>
      <h1>Accounts</h1>
      <Problem error={accounts.error} />
      {accounts.isPending ? <p aria-live="polite">Loading accounts…</p> : null}
      {accounts.data && accounts.data.accounts.length === 0 ? <p>No accounts yet: create the first below.</p> : null}
      {accounts.data && accounts.data.accounts.length > 0 ? (
        <Table
          caption="Client accounts"
          rows={accounts.data.accounts}
          rowKey={(a) => a.id}
          columns={[
            { header: 'Company', cell: (a) => <Link to={`/accounts/${a.id}`}>{a.company_name}</Link> },
            { header: 'Status', cell: (a) => a.status },
            { header: 'Profiles', cell: (a) => a.profiles ?? 0 },
            {
              header: 'Last sync',
              cell: (a) =>
                a.last_ingestion ? `${a.last_ingestion.status}, ${when(a.last_ingestion.started_at)}` : 'never',
            },
          ]}
        />
      ) : null}
      <Pager page={accounts.data} shown={accounts.data?.accounts.length ?? 0} onOffset={setOffset} label="Accounts" />
      <CreateAccount />
    </>
  );
}

function CreateAccount() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const queries = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: () =>
      api<Account>('entity-sync', '/v1/accounts', {
        method: 'POST',
        body: { company_name: name.trim(), ...(email.trim() ? { primary_contact_email: email.trim() } : {}) },
      }),
    onSuccess: async (a) => {
      await queries.invalidateQueries({ queryKey: ['accounts'] });
      navigate(`/accounts/${a.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section aria-labelledby="create-account">
      <h2 id="create-account">Create an account</h2>
      <form onSubmit={submit} className="stack">
        <label htmlFor="company">Company name</label>
        <input id="company" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="email">Contact email (optional)</label>
        <input id="email" type="email" maxLength={320} value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create account'}
        </button>
        <Problem error={create.error} />
      </form>
    </section>
  );
}
