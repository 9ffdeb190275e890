-- The Profiles model's accountInfo.subType (KDP_AUTHOR, AMAZON_ATTRIBUTION). An agency profile of
-- subtype AMAZON_ATTRIBUTION is Amazon Attribution's, not a DSP entity: the DSP advertisers model
-- says its scope must be an agency profile whose subType is not AMAZON_ATTRIBUTION.
alter table profiles add column account_sub_type text;
