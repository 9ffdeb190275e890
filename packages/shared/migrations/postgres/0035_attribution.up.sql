-- Amazon Attribution (guides/amazon-attribution/how-to.md): whether Amazon serves it for a
-- profile and what was last pulled; its advertisers per profile; the publishers (the same list
-- for every advertiser); and the tags, whose retrieval is what turns measurement on.
CREATE TABLE attribution_profiles (
  profile_id text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('enabled', 'not_eligible', 'failed')),
  reason text,
  -- The last day the reports were pulled through, and when: the first pull backfills, later ones restate.
  pulled_through date,
  pulled_at timestamptz,
  checked_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attribution_advertisers (
  profile_id text NOT NULL,
  advertiser_id text NOT NULL,
  name text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (profile_id, advertiser_id)
);

CREATE TABLE attribution_publishers (
  publisher_id text PRIMARY KEY,
  name text NOT NULL,
  macro_enabled boolean NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attribution_tags (
  profile_id text NOT NULL,
  advertiser_id text NOT NULL,
  publisher_id text NOT NULL,
  macro boolean NOT NULL,
  tag text NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (profile_id, advertiser_id, publisher_id)
);
