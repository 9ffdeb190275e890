import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Page, type Profile, type StreamSubscription } from '../api.ts';
import { AccountSelect } from './AccountSelect.tsx';
import { when } from '../format.ts';
import { Problem } from './Problem.tsx';
import { Table } from './Table.tsx';
import { Pager } from './Pager.tsx';

const PAGE = 100;
/** Amazon has not yet confirmed these (adsync confirms them itself): worth asking again soon. */
const WAITING = new Set(['requested', 'PROVISIONING', 'PENDING_CONFIRMATION']);

/** Marketing Stream: each profile's (or DSP advertiser's) subscriptions per dataset, with their state. */
export function StreamPage() {
  const queries = useQueryClient();
  const [offset, setOffset] = useState(0);
  const [archiving, setArchiving] = useState<StreamSubscription | null>(null);
  const subs = useQuery({
    queryKey: ['stream-subscriptions', offset],
    queryFn: () =>
      api<{ items: StreamSubscription[] } & Page>(
        'stream-consumer',
        `/v1/streams/subscriptions?limit=${PAGE}&offset=${offset}`,
      ),
    // A new subscription is confirmed by Amazon within seconds: asked again while one waits.
    refetchInterval: (q) => (q.state.data?.items.some((s) => WAITING.has(s.status)) ? 3000 : false),
  });
  const check = useMutation({
    mutationFn: (id: string) =>
      api<StreamSubscription>('stream-consumer', `/v1/streams/subscriptions/${encodeURIComponent(id)}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['stream-subscriptions'] }),
  });
  const archive = useMutation({
    mutationFn: (id: string) =>
      api<unknown>('stream-consumer', `/v1/streams/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      setArchiving(null);
      await queries.invalidateQueries({ queryKey: ['stream-subscriptions'] });
    },
  });
  const items = subs.data?.items ?? [];
  return (
    <>
      <h1>Marketing Stream</h1>
      <p className="help">
        Hourly metrics and changes Amazon pushes within minutes, per profile and dataset. Amazon keeps no deleted
        subscription: archiving one stops it for good.
      </p>
      <Problem error={subs.error ?? check.error ?? archive.error} />
      {subs.data && items.length === 0 ? <p>No subscriptions yet; subscribe a profile below.</p> : null}
      {items.length ? (
        <Table
          caption="Marketing Stream subscriptions"
          rows={items}
          rowKey={(s) => s.id}
          columns={[
            {
              header: 'Profile or advertiser',
              cell: (s) => s.profileId ?? `DSP advertiser ${s.dspAdvertiserId ?? ''}`,
            },
            { header: 'Dataset', cell: (s) => s.dataSetId },
            {
              header: 'State',
              testId: 'stream-status',
              cell: (s) => `${s.status.toLowerCase().replace(/_/g, ' ')}${s.statusReason ? `: ${s.statusReason}` : ''}`,
            },
            { header: 'Since', cell: (s) => when(s.confirmedAt ?? s.createdAt) },
            {
              header: 'Actions',
              className: () => 'row',
              cell: (s) => (
                <>
                  <button
                    type="button"
                    onClick={() => check.mutate(s.id)}
                    disabled={check.isPending}
                    aria-label={`Check ${s.dataSetId} for ${s.profileId ?? s.dspAdvertiserId} at Amazon`}
                  >
                    Check
                  </button>
                  {s.status === 'ACTIVE' ? (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setArchiving(s)}
                      aria-label={`Archive ${s.dataSetId} for ${s.profileId ?? s.dspAdvertiserId}`}
                    >
                      Archive
                    </button>
                  ) : null}
                </>
              ),
            },
          ]}
        />
      ) : null}
      <Pager page={subs.data} shown={items.length} onOffset={setOffset} label="Subscriptions" />
      {archiving ? (
        <div className="confirm" role="group" aria-label="Confirm archiving">
          <span>
            Archive <strong>{archiving.dataSetId}</strong> for {archiving.profileId ?? archiving.dspAdvertiserId}?
            Amazon cannot bring it back; subscribing again makes a new one.
          </span>
          <button
            type="button"
            className="danger"
            onClick={() => archive.mutate(archiving.id)}
            disabled={archive.isPending}
          >
            Archive it
          </button>
          <button type="button" onClick={() => setArchiving(null)}>
            Keep it
          </button>
        </div>
      ) : null}
      <Subscribe />
    </>
  );
}

function Subscribe() {
  const queries = useQueryClient();
  const [accountId, setAccountId] = useState('');
  const [profileId, setProfileId] = useState('');
  const profiles = useQuery({
    queryKey: ['profiles', accountId, 'all'],
    enabled: !!accountId,
    queryFn: () =>
      api<{ profiles: Profile[] } & Page>(
        'entity-sync',
        `/v1/accounts/${encodeURIComponent(accountId)}/profiles?limit=1000`,
      ),
  });
  const subscribe = useMutation({
    mutationFn: () =>
      api<{ items: StreamSubscription[] }>('stream-consumer', '/v1/streams/subscriptions', {
        method: 'POST',
        body: { profileId },
      }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['stream-subscriptions'] }),
  });
  return (
    <section aria-labelledby="subscribe">
      <h2 id="subscribe">Subscribe a profile</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          subscribe.mutate();
        }}
      >
        <AccountSelect
          id="st-account"
          value={accountId}
          onChange={(v) => {
            setAccountId(v);
            setProfileId('');
          }}
        />
        <label htmlFor="st-profile">Profile</label>
        <select id="st-profile" required value={profileId} onChange={(e) => setProfileId(e.target.value)}>
          <option value="">Choose a profile</option>
          {(profiles.data?.profiles ?? [])
            .filter((p) => p.status === 'active')
            .map((p) => (
              <option key={p.profile_id} value={p.profile_id}>
                {p.profile_id} {p.account_name ? `(${p.account_name}, ${p.country_code})` : `(${p.country_code})`}
              </option>
            ))}
        </select>
        <p className="help">Every dataset adsync loads, and DSP's for the advertisers a DSP profile reaches.</p>
        <button type="submit" disabled={subscribe.isPending}>
          {subscribe.isPending ? 'Subscribing…' : 'Subscribe'}
        </button>
        {subscribe.data ? (
          <p role="status" className="ok">
            Subscribed to {subscribe.data.items.length} datasets.
          </p>
        ) : null}
        <Problem error={profiles.error ?? subscribe.error} />
      </form>
    </section>
  );
}
