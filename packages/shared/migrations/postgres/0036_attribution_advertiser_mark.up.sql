-- Each advertiser's own last day pulled: one Amazon grants a profile later gets the backfill, not
-- only the restatement window, and one advertiser's failed report no longer holds the others back.
-- Advertisers pulled before this start from their profile's mark.
ALTER TABLE attribution_advertisers ADD COLUMN pulled_through date;
UPDATE attribution_advertisers a
   SET pulled_through = p.pulled_through
  FROM attribution_profiles p
 WHERE p.profile_id = a.profile_id;
