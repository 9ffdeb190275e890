ALTER TABLE attribution_advertisers DROP COLUMN IF EXISTS pulled_through;
