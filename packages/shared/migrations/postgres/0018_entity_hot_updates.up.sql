-- Every full entity sync rewrites each row it finds (synced_at = now() says Amazon still
-- lists it), and seldom an indexed column. With room left on each page Postgres updates such
-- rows in place (HOT: no new index entries, no index bloat); on full pages every update also
-- writes an entry in each index. bench/entity-sync.ts: a resync of 303k rows took 12-15 %
-- less time and Postgres CPU, and a first load no more. Applies to pages written from now on.
alter table entity_campaigns set (fillfactor = 70);
alter table entity_ad_groups set (fillfactor = 70);
alter table entity_ads set (fillfactor = 70);
alter table entity_targets set (fillfactor = 70);
alter table entity_negative_targets set (fillfactor = 70);
alter table entity_creatives set (fillfactor = 70);
alter table entity_portfolios set (fillfactor = 70);
alter table entity_budget_rules set (fillfactor = 70);
