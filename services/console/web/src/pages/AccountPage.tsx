import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  api,
  ApiError,
  type Account,
  type CredentialState,
  type DspAdvertiser,
  type IngestionRun,
  type Page,
  type Profile,
  type Selection,
} from '../api.ts';
import { runErrors, withChoice, type SelectionBody } from '../account.ts';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 50;

export function AccountPage() {
  const { id = '' } = useParams();
  const [search] = useSearchParams();
  const account = useQuery({
    queryKey: ['account', id],
    // Another account's id is, to this key, no account at all (403 or 404 alike).
    queryFn: () =>
      api<Account>('entity-sync', `/v1/accounts/${encodeURIComponent(id)}`).catch((err: unknown) => {
        if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return null;
        throw err;
      }),
  });
  return (
    <>
      <h1>{account.data?.company_name ?? 'Account'}</h1>
      <Problem error={account.error} />
      {account.data === null ? <p role="alert">This key sees no account {id}.</p> : null}
      {search.get('connected') ? (
        <p role="status" className="ok">
          Connected through Amazon. The profiles it found are below.
        </p>
      ) : null}
      {account.data ? (
        <>
          <p>
            Status: <strong>{account.data.status}</strong>
            {account.data.last_ingestion ? `; last sync ${account.data.last_ingestion.status}` : '; never synced'}
          </p>
          <Login state={account.data.credentials} />
          <Connect accountId={id} />
          <Profiles accountId={id} />
          <DspAdvertisers accountId={id} />
          <SyncNow accountId={id} />
          <History accountId={id} />
        </>
      ) : null}
    </>
  );
}

function Connect({ accountId }: { accountId: string }) {
  const [region, setRegion] = useState('NA');
  const connect = useMutation({
    mutationFn: () =>
      api<{ consent_url: string }>('entity-sync', `/v1/accounts/${encodeURIComponent(accountId)}/connect`, {
        method: 'POST',
        body: { region },
      }),
    // Amazon's consent page, in this tab: its answer comes back to this account's page.
    onSuccess: (r) => window.location.assign(r.consent_url),
  });
  return (
    <section aria-labelledby="connect">
      <h2 id="connect">Connect through Amazon</h2>
      <p>The advertiser signs in with Amazon and allows adsync to read their advertising data.</p>
      <div className="row">
        <label htmlFor="region">Region</label>
        <select id="region" value={region} onChange={(e) => setRegion(e.target.value)}>
          <option value="NA">North America</option>
          <option value="EU">Europe</option>
          <option value="FE">Far East</option>
        </select>
        <button type="button" onClick={() => connect.mutate()} disabled={connect.isPending}>
          {connect.isPending ? 'Opening Amazon…' : "Open Amazon's consent page"}
        </button>
      </div>
      <Problem error={connect.error} />
    </section>
  );
}

function Profiles({ accountId }: { accountId: string }) {
  const [offset, setOffset] = useState(0);
  const queries = useQueryClient();
  const profiles = useQuery({
    queryKey: ['profiles', accountId, offset],
    queryFn: () =>
      api<{ profiles: Profile[] } & Page>(
        'entity-sync',
        `/v1/accounts/${encodeURIComponent(accountId)}/profiles?limit=${PAGE}&offset=${offset}`,
      ),
  });
  const selection = useQuery({
    queryKey: ['selection', accountId],
    queryFn: () => api<Selection>('entity-sync', `/v1/accounts/${encodeURIComponent(accountId)}/profile-selection`),
  });
  const choose = useMutation({
    mutationFn: ({ profileId, synced }: { profileId: string; synced: boolean }) =>
      putSelection(accountId, withChoice(selection.data?.selection, 'profile', profileId, synced)),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['selection', accountId] });
      await queries.invalidateQueries({ queryKey: ['profiles', accountId] });
    },
  });
  const excluded = new Map((selection.data?.excluded ?? []).map((e) => [e.profileId, e.reason]));
  return (
    <section aria-labelledby="profiles">
      <h2 id="profiles">Profiles</h2>
      <Problem error={profiles.error ?? selection.error ?? choose.error} />
      {profiles.data && profiles.data.profiles.length === 0 ? (
        <p>No profiles yet: connect the account through Amazon first.</p>
      ) : null}
      {profiles.data && profiles.data.profiles.length > 0 ? (
        <Table
          caption="Profiles of this account, and whether each is synced"
          rows={profiles.data.profiles}
          rowKey={(p) => p.profile_id}
          columns={[
            {
              header: 'Synced',
              cell: (p) => (
                <input
                  type="checkbox"
                  id={`sync-${p.profile_id}`}
                  aria-label={`Sync profile ${p.profile_id}${p.account_name ? ` (${p.account_name})` : ''}`}
                  checked={!excluded.has(p.profile_id)}
                  disabled={choose.isPending || selection.isPending}
                  onChange={(e) => choose.mutate({ profileId: p.profile_id, synced: e.target.checked })}
                />
              ),
            },
            { header: 'Profile', cell: (p) => p.profile_id },
            { header: 'Name', cell: (p) => p.account_name ?? '' },
            { header: 'Marketplace', cell: (p) => `${p.country_code} (${p.currency_code}, ${p.timezone})` },
            {
              header: 'Status',
              cell: (p) =>
                excluded.has(p.profile_id) ? `left out: ${excluded.get(p.profile_id) || 'by the selection'}` : p.status,
            },
          ]}
        />
      ) : null}
      <Pager page={profiles.data} shown={profiles.data?.profiles.length ?? 0} onOffset={setOffset} label="Profiles" />
    </section>
  );
}

const putSelection = (accountId: string, selection: SelectionBody) =>
  api<Selection>('entity-sync', `/v1/accounts/${encodeURIComponent(accountId)}/profile-selection`, {
    method: 'PUT',
    body: selection,
  });

/** What Login with Amazon last said of the account's credentials, and what to do about it. */
function Login({ state }: { state: CredentialState | undefined }) {
  if (!state) return null;
  const since = when(state.since);
  if (state.state === 'not_connected')
    return <p data-testid="credentials">Amazon login: not connected yet. Connect it through Amazon below.</p>;
  if (state.state === 'connected')
    return (
      <p data-testid="credentials" className="ok">
        Amazon login: connected (credentials stored {since}).
      </p>
    );
  return (
    <p data-testid="credentials" role="alert" className="problem">
      Amazon login:{' '}
      {state.state === 'expired'
        ? 'expired or revoked; the advertiser must consent again (connect through Amazon below)'
        : "refused; check the app's client id and secret, then connect again"}
      . Since {since}. Amazon said: {state.reason}
    </p>
  );
}

function DspAdvertisers({ accountId }: { accountId: string }) {
  const [offset, setOffset] = useState(0);
  const queries = useQueryClient();
  const advertisers = useQuery({
    queryKey: ['dsp-advertisers', accountId, offset],
    queryFn: () =>
      api<{ advertisers: DspAdvertiser[] } & Page>(
        'entity-sync',
        `/v1/accounts/${encodeURIComponent(accountId)}/dsp-advertisers?limit=${PAGE}&offset=${offset}`,
      ),
  });
  const selection = useQuery({
    queryKey: ['selection', accountId],
    queryFn: () => api<Selection>('entity-sync', `/v1/accounts/${encodeURIComponent(accountId)}/profile-selection`),
  });
  const choose = useMutation({
    mutationFn: ({ advertiserId, synced }: { advertiserId: string; synced: boolean }) =>
      putSelection(accountId, withChoice(selection.data?.selection, 'dspAdvertiser', advertiserId, synced)),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['selection', accountId] });
      await queries.invalidateQueries({ queryKey: ['dsp-advertisers', accountId] });
    },
  });
  const items = advertisers.data?.advertisers ?? [];
  // Most accounts have no DSP: the section says nothing until there is something to choose.
  if (advertisers.data && items.length === 0 && offset === 0) return null;
  return (
    <section aria-labelledby="dsp">
      <h2 id="dsp">Amazon DSP advertisers</h2>
      <Problem error={advertisers.error ?? choose.error} />
      {items.length ? (
        <Table
          caption="DSP advertisers of this account, and whether each is synced"
          rows={items}
          rowKey={(a) => a.advertiser_id}
          columns={[
            {
              header: 'Synced',
              cell: (a) => (
                <input
                  type="checkbox"
                  aria-label={`Sync DSP advertiser ${a.advertiser_id} (${a.name})`}
                  // The service says whether the selection leaves it out (by id, include list or marketplace).
                  checked={a.status !== 'excluded'}
                  disabled={choose.isPending || selection.isPending}
                  onChange={(e) => choose.mutate({ advertiserId: a.advertiser_id, synced: e.target.checked })}
                />
              ),
            },
            { header: 'Advertiser', cell: (a) => a.advertiser_id },
            { header: 'Name', cell: (a) => a.name },
            {
              header: 'Reached',
              cell: (a) => (a.access === 'profile' ? 'through a DSP profile' : 'through a manager account'),
            },
            { header: 'Status', cell: (a) => `${a.status}${a.status_reason ? `: ${a.status_reason}` : ''}` },
          ]}
        />
      ) : null}
      <Pager page={advertisers.data} shown={items.length} onOffset={setOffset} label="DSP advertisers" />
    </section>
  );
}

/** The account's ingestion runs, newest first, with their outcome and errors. */
function History({ accountId }: { accountId: string }) {
  const [offset, setOffset] = useState(0);
  const runs = useQuery({
    queryKey: ['ingestion-runs', accountId, offset],
    queryFn: () =>
      api<{ runs: IngestionRun[] } & Page>(
        'entity-sync',
        `/v1/ingestion/runs?accountId=${encodeURIComponent(accountId)}&limit=20&offset=${offset}`,
      ),
    refetchInterval: (q) =>
      q.state.data?.runs.some((r) => r.status === 'queued' || r.status === 'running') ? 2000 : false,
  });
  const items = runs.data?.runs ?? [];
  return (
    <section aria-labelledby="history">
      <h2 id="history">Sync history</h2>
      <p className="help">This account's runs; a run for every account at once (an admin's) is not listed here.</p>
      <Problem error={runs.error} />
      {runs.data && items.length === 0 ? <p>No syncs yet.</p> : null}
      {items.length ? (
        <Table
          caption="Ingestion runs of this account, newest first"
          rows={items}
          rowKey={(r) => r.id}
          columns={[
            { header: 'Started', cell: (r) => <Link to={`/runs/${r.id}`}>{when(r.started_at ?? r.created_at)}</Link> },
            { header: 'Outcome', cell: (r) => r.status, testId: 'history-status' },
            { header: 'Took', cell: took },
            { header: 'Errors', cell: runErrors },
          ]}
        />
      ) : null}
      <Pager page={runs.data} shown={items.length} onOffset={setOffset} label="Sync history" />
    </section>
  );
}

const took = (r: IngestionRun): string => {
  if (!r.started_at || !r.finished_at) return '';
  const s = Math.round((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
};

function SyncNow({ accountId }: { accountId: string }) {
  const navigate = useNavigate();
  const sync = useMutation({
    mutationFn: () =>
      api<{ runId: string }>('entity-sync', `/v1/ingestion/sync-account/${encodeURIComponent(accountId)}`, {
        method: 'POST',
      }),
    onSuccess: (r) => navigate(`/runs/${r.runId}`),
  });
  return (
    <section aria-labelledby="sync">
      <h2 id="sync">Sync</h2>
      <p>Profiles, entities and report requests now, in the background.</p>
      <button type="button" onClick={() => sync.mutate()} disabled={sync.isPending}>
        {sync.isPending ? 'Starting…' : 'Start an ingestion'}
      </button>
      <Problem error={sync.error} />
    </section>
  );
}
