-- 0018 left 30 % of each entity page free, so that a full resync (which rewrites every row:
-- synced_at) could update rows in place. A first full sync COPYs the tables full to that mark,
-- and the resync after it then found room for the new versions of only about 40 % of a
-- page's rows: the rest moved to new pages with a new entry in every index, and Postgres
-- spent 3.35 CPU-s on a 303k-row resync instead of 2.1-2.7 for the ones after. With half of
-- each page free that first resync updates in place as well: bench/entity-sync.ts, first
-- resync 0.55-0.59 → 0.70-0.71 of COPY (Postgres 2.07-2.24 CPU-s); first load unchanged
-- (0.66-0.74: the COPY side loads the same tables). Applies to pages written from now on, as
-- in 0019.
alter table entity_campaigns set (fillfactor = 50);
alter table entity_ad_groups set (fillfactor = 50);
alter table entity_ads set (fillfactor = 50);
alter table entity_targets set (fillfactor = 50);
alter table entity_negative_targets set (fillfactor = 50);
alter table entity_creatives set (fillfactor = 50);
alter table entity_portfolios set (fillfactor = 50);
alter table entity_budget_rules set (fillfactor = 50);
