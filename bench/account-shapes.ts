/**
 * Sandbox account shapes the benchmarks share. LEAN_ACCOUNT: 200 campaigns of 4 ad groups,
 * 3 ads and 10 keywords each; about 19,943 rows for one profile over seven days (issue 30's job).
 */
export const LEAN_ACCOUNT = {
  campaignsPerProfile: 200,
  adGroupsPerCampaign: 4,
  adsPerAdGroup: 3,
  keywordsPerAdGroup: 10,
  searchTermsPerKeyword: 1,
};
