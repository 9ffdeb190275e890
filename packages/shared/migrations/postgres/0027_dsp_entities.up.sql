-- Amazon DSP's entities per advertiser, from Ads API v1 (POST /adsApi/v1/query/{kind}): campaigns
-- (the reports' orders), ad groups (line items), ads (creatives) and targets. The model's object
-- is kept whole in `data`; the ids, name and state a query or join needs are columns. A complete
-- sync of a kind replaces that kind's rows for the advertiser: one Amazon no longer lists is gone.
create table dsp_entities (
  advertiser_id text not null references dsp_advertisers(advertiser_id) on delete cascade,
  kind text not null check (kind in ('campaigns', 'adGroups', 'ads', 'targets')),
  entity_id text not null,
  campaign_id text,
  ad_group_id text,
  name text,
  state text,
  data jsonb not null,
  last_updated_at timestamptz,
  synced_at timestamptz not null default now(),
  primary key (advertiser_id, kind, entity_id)
);
create index dsp_entities_campaign_idx on dsp_entities(advertiser_id, campaign_id);
