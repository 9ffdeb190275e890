export { startSandbox, type Sandbox, type SandboxOptions } from './server.ts';
export {
  SANDBOX_ACCOUNT_CREDENTIALS,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_REFRESH_TOKEN,
} from './amazon/gateway.ts';
export {
  Dataset,
  DEFAULT_SCALE,
  idOf,
  entityId,
  type Scale,
  type Entity,
  type EntityKind,
  type AdProductKind,
} from './dataset.ts';
export { DEFAULT_FAULTS, type Faults } from './faults.ts';
export {
  isMoney,
  reportRows,
  totalsOf,
  FINAL_GENERATION,
  type ReportTotals,
  type Row,
} from './amazon/report-engine.ts';
export { AMAZON_REPORT_TYPES, checkCreateReport } from './amazon/report-contract.ts';
export type { Endpoint } from './amazon/endpoint.ts';
export {
  BIGBUY_API_KEY,
  ALIEXPRESS_APP_KEY,
  ALIEXPRESS_APP_SECRET,
  ALIEXPRESS_ACCESS_TOKEN,
  aliexpressSign,
  supplierProduct,
  supplierOrder,
} from './supplier-routes.ts';
