-- A price or stock job usually rewrites every product of a supplier. At fillfactor 70 a page
-- had room for the new versions of about 40 % of its rows, so the first such job after an
-- import moved the rest to new pages, each with a new primary-key entry, and the table grew
-- round after round. With half of each page free nearly every update stays on its page (HOT),
-- and the next round reuses the space of the old versions. 100k products, three rounds of
-- updates in psql: 305-350 ms a round instead of 376-414, and the table ended at 31 MB
-- instead of 44. bench/supplier-price-update.ts, every price changed: Postgres 0.65 → 0.48
-- CPU-s. Applies to pages written from now on: an existing table takes it as its pages are
-- rewritten, or at once with VACUUM FULL (which locks the table while it runs).
alter table imported_products set (fillfactor = 50);
