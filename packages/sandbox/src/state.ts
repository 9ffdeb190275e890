import { randomBytes } from 'node:crypto';
import { Dataset, type Scale } from './dataset.ts';
import { DEFAULT_FAULTS, type Faults } from './faults.ts';
// Each feature's records come from its own state module, never its routes: the routes import this file.
import type { ReportRecord } from './amazon/reporting-state.ts';
import type { AmcExecution, AmcSchedule, AmcWorkflow } from './amc-state.ts';
import { newStreamState, type StreamState } from './stream-state.ts';
import type { ExportRecord } from './export-state.ts';
import { nonMultiAdGroupSbCampaigns } from './amazon/report-engine.ts';

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  status: number;
  profileId: string | null;
  injected: '429' | '5xx' | null;
}

/** Everything the sandbox remembers. Tests reach it directly; other callers via /_sandbox. */
export class SandboxState {
  readonly dataset: Dataset;
  faults: Faults;
  readonly signingKey = randomBytes(32);
  readonly accessTokens = new Map<string, { clientId: string; expiresAt: number }>();
  readonly revokedRefreshTokens = new Set<string>();
  /** Authorization codes the consent page issued: each works once, for 5 minutes, with its redirect_uri. */
  readonly authCodes = new Map<
    string,
    {
      clientId: string;
      redirectUri: string;
      issuedAt: number;
      used: boolean;
      challenge: { value: string; method: string } | null;
    }
  >();
  readonly reports = new Map<string, ReportRecord>();
  readonly reportsByKey = new Map<string, ReportRecord>();
  /** Pulls per (profile, report type, day), for restatement. */
  readonly pulls = new Map<string, number>();
  readonly requestLog: RequestLogEntry[] = [];
  /** Amazon calls per profile scope, so a test can prove a profile was never called. */
  readonly profileCalls = new Map<string, number>();
  /** Profiles linked with Viewer permission only: listed by GET /v2/profiles only with accessLevel=view. */
  readonly viewOnlyProfiles = new Set<string>();
  /** Profiles a tag resource of Amazon Attribution was called for (how-to.md: that call turns measurement on). */
  readonly attributionTagged = new Set<string>();
  /** Supplier catalogue size, and the round (stock and prices move each round, orders advance). */
  supplierScale = { products: 250, orders: 40 };
  supplierRound = 0;
  /** The share of products whose price moves in a round, by round (1, every price, when unset). */
  readonly supplierPriceShares = new Map<number, number>();
  readonly marketplaceUpdates: { listingId: string; kind: string; body: unknown; at: number }[] = [];
  readonly exports = new Map<string, ExportRecord>();
  readonly amcWorkflows = new Map<string, AmcWorkflow>();
  readonly amcExecutions = new Map<string, AmcExecution>();
  /** AMC schedules by `${instanceId}|${scheduleId}`; their executions start as the clock passes each run time. */
  readonly amcSchedules = new Map<string, AmcSchedule>();
  /** Marketing Stream subscriptions and every record sent to them. */
  readonly stream: StreamState = newStreamState();
  /** Every execution request AMC received, so a test can prove one never arrived. */
  readonly amcRequests: { instanceId: string; body: unknown; at: number }[] = [];
  readonly counters = {
    requests: 0,
    injected429: 0,
    injected5xx: 0,
    tokenGrants: 0,
    reportsCreated: 0,
    exportsCreated: 0,
    downloads: 0,
  };
  /** Hold answers to Amazon's models (server.ts); what was off them, for the test that started the sandbox. */
  strict = true;
  readonly violations: { at: string; operation: string; status: number; problems: string[] }[] = [];
  /** Shifts the sandbox clock, so tests can expire tokens and URLs without waiting. */
  clockOffsetMs = 0;
  private faultCounter = 0;
  private url = '';

  constructor(seed: number, scale: Partial<Scale>, faults: Partial<Faults>) {
    this.dataset = new Dataset(seed, scale);
    this.faults = { ...DEFAULT_FAULTS, ...faults };
  }

  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  baseUrl(): string {
    return this.url;
  }

  setBaseUrl(url: string): void {
    this.url = url;
  }

  /** Deterministic fault draws: the same seed and call order give the same faults. */
  draw(): number {
    this.faultCounter++;
    let h = (this.dataset.seed ^ Math.imul(this.faultCounter, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
  }

  log(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    if (this.requestLog.length > 20_000) this.requestLog.splice(0, 10_000);
  }

  /** An answer off Amazon's model: kept for the test (close() fails on it) and said once on stderr. */
  recordViolation(v: { operation: string; status: number; problems: string[] }): void {
    const first = !this.violations.some((x) => x.operation === v.operation && x.problems[0] === v.problems[0]);
    this.violations.push({ at: new Date().toISOString(), ...v });
    if (this.violations.length > 1000) this.violations.splice(0, 500);
    if (first)
      console.error(`[sandbox] answer outside Amazon's model: ${v.operation} ${v.status}: ${v.problems.join('; ')}`);
  }

  countProfileCall(profileId: string): void {
    this.profileCalls.set(profileId, (this.profileCalls.get(profileId) ?? 0) + 1);
  }

  /** Campaigns a report of this type leaves out (the fault that plays Amazon dropping SB campaigns from v3 reports). */
  omittedCampaigns(reportTypeId: string, p: number): Set<string> | undefined {
    if (this.faults.emptyReportTypes.includes(reportTypeId))
      return new Set(
        (['sp', 'sb', 'sd', 'st'] as const).flatMap((k) => [...this.dataset.all(k, 'campaign', p)].map((c) => c.id)),
      );
    if (!this.faults.dropNonMultiAdGroupSbFrom.includes(reportTypeId)) return undefined;
    return new Set(nonMultiAdGroupSbCampaigns(this.dataset, p));
  }
}
