drop table profile_claims;
