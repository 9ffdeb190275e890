export { startSandbox, type Sandbox, type SandboxOptions } from './server.ts';
export { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN } from './amazon-ads-routes.ts';
export { Dataset, DEFAULT_SCALE, idOf, type Scale } from './dataset.ts';
export { DEFAULT_FAULTS, type Faults } from './faults.ts';
export { reportRows, totalsOf, type ReportTotals } from './report-rows.ts';
export { BIGBUY_API_KEY, ALIEXPRESS_APP_KEY, ALIEXPRESS_APP_SECRET, ALIEXPRESS_ACCESS_TOKEN, aliexpressSign, supplierProduct, supplierOrder } from './supplier-routes.ts';
