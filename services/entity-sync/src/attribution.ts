/**
 * Amazon Attribution for one profile (guides/amazon-attribution/how-to.md): its advertisers, the
 * publishers and every tag (retrieving them is what turns measurement on), then the performance
 * report at each level and the products report for each advertiser, into ClickHouse.
 *
 * An advertiser's first pull reaches back `backfillDays` (within each report's reach: performance
 * 13 months, products 90 days), so one that joins a profile later gets its history too; later
 * pulls take the last `restateDays` (30 by default), as Amazon
 * recommends since it restates after 1, 7 and 28 days. A profile Amazon does not serve is marked
 * `not_eligible` and is not a failure. A row Amazon wrote that cannot be read is kept out with its
 * reason, and the pull it came in deletes nothing older (it is not whole).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { Logger } from '@adsync/shared/logger';
import type { AmazonAdsClient } from '@adsync/shared/amazon/ads-client';
import { addDays, localToday } from '@adsync/shared/calendar';
import {
  ATTRIBUTION_REACH_DAYS,
  ATTRIBUTION_REPORT_KINDS,
  AttributionRowError,
  attributionReportPages,
  attributionRequest,
  attributionTags,
  isAttributionRefusal,
  listAttributionAdvertisers,
  listAttributionPublishers,
  performanceFact,
  productFact,
  type AttributionReportKind,
} from '@adsync/shared/amazon/attribution';
import { isDependencyOutage } from '@adsync/shared/runtime/errors';
import {
  dropOlderPulls,
  recordAdvertiserPulled,
  recordAttributionState,
  replaceAttributionAdvertisers,
  upsertAttributionPublishers,
  upsertAttributionTags,
  writeAttributionRows,
  type PullSlice,
} from './attribution-store.ts';

export interface AttributionOptions {
  /** Days an advertiser's first pull reaches back (capped by each report's reach). */
  backfillDays: number;
  /** Days every later pull takes again, for Amazon's restatements. */
  restateDays: number;
}

export const DEFAULT_ATTRIBUTION: AttributionOptions = { backfillDays: 30, restateDays: 30 };

export interface AttributionOutcome {
  profileId: string;
  state: 'enabled' | 'not_eligible' | 'failed';
  reason?: string;
  advertisers: number;
  tags: number;
  rows: number;
  /** Rows Amazon wrote that could not be read, with why (first few). */
  badRows: { kind: AttributionReportKind; advertiserId: string; reason: string }[];
  /** Reports (or the tags) that failed after retries; the others were still loaded. */
  failed: { kind: AttributionReportKind | 'TAGS'; advertiserId: string; reason: string }[];
  /** The campaign report's window of the last advertiser pulled (each advertiser has its own). */
  window?: { from: string; to: string };
}

const LEVEL: Record<AttributionReportKind, PullSlice['level']> = {
  PERFORMANCE_CAMPAIGN: 'campaign',
  PERFORMANCE_ADGROUP: 'ad_group',
  PERFORMANCE_CREATIVE: 'creative',
  PRODUCTS: null,
};

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The days a pull takes: from the backfill (first) or the restatement window, through yesterday. */
export function attributionWindow(
  today: string,
  pulledThrough: string | null,
  kind: AttributionReportKind,
  o: AttributionOptions,
): { from: string; to: string } {
  const to = addDays(today, -1);
  const back = pulledThrough === null ? o.backfillDays : o.restateDays;
  // A window never reaches past what the report serves (counted from today, as Amazon counts).
  const earliest = addDays(today, -(ATTRIBUTION_REACH_DAYS[kind] - 1));
  let from = addDays(to, -(back - 1));
  if (from < earliest) from = earliest;
  // Never leave a gap after the last pull, even past the restatement window (a long pause):
  // from the day after it, or as far back as the report still serves.
  if (pulledThrough !== null && addDays(pulledThrough, 1) < from) {
    const next = addDays(pulledThrough, 1);
    from = next < earliest ? earliest : next;
  }
  return { from, to };
}

export async function syncAttribution(
  deps: { db: Knex; ch: ClickHouse; log: Logger; now?: () => Date; options?: AttributionOptions },
  client: AmazonAdsClient,
  profile: { profile_id: string; timezone: string; currency_code: string },
): Promise<AttributionOutcome> {
  const { db, ch } = deps;
  const o = deps.options ?? DEFAULT_ATTRIBUTION;
  const now = deps.now?.() ?? new Date();
  const profileId = profile.profile_id;
  const log = deps.log.child({ profileId, part: 'attribution' });
  const outcome: AttributionOutcome = {
    profileId,
    state: 'enabled',
    advertisers: 0,
    tags: 0,
    rows: 0,
    badRows: [],
    failed: [],
  };
  let advertisers;
  try {
    advertisers = await listAttributionAdvertisers(client, profileId);
  } catch (err) {
    if (!isAttributionRefusal(err)) throw err;
    await recordAttributionState(db, profileId, 'not_eligible', reasonOf(err));
    log.info({ reason: reasonOf(err) }, 'Amazon Attribution is not served for this profile');
    return { ...outcome, state: 'not_eligible', reason: reasonOf(err) };
  }
  // Each advertiser's last day pulled, whatever happened since (a failed or refused spell leaves
  // it): no gap after it; one never pulled (new to the profile) gets the backfill.
  const marks = await replaceAttributionAdvertisers(db, profileId, advertisers);
  outcome.advertisers = advertisers.length;
  // The tags (fetching them keeps measurement on); the reports do not depend on them, so a refusal
  // here is the run's to show, not a reason to skip the reports.
  try {
    const publishers = await listAttributionPublishers(client, profileId);
    await upsertAttributionPublishers(db, publishers);
    const tags = await attributionTags(
      client,
      profileId,
      publishers,
      advertisers.map((a) => a.advertiserId),
    );
    await upsertAttributionTags(db, profileId, tags);
    outcome.tags = tags.length;
  } catch (err) {
    if (isDependencyOutage(err)) throw err;
    outcome.failed.push({ kind: 'TAGS', advertiserId: '', reason: reasonOf(err) });
    log.warn({ err: reasonOf(err) }, 'the attribution tags could not be fetched');
  }

  const today = localToday(profile.timezone, now);
  const pulledAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  // The pull's version, in milliseconds: two pulls within a second are still told apart.
  const version = now.getTime();
  let to = addDays(today, -1);
  for (const adv of advertisers) {
    const pulledThrough = marks.get(adv.advertiserId) ?? null;
    let whole = true;
    for (const kind of ATTRIBUTION_REPORT_KINDS) {
      const window = attributionWindow(today, pulledThrough, kind, o);
      to = window.to;
      if (kind === 'PERFORMANCE_CAMPAIGN') outcome.window = window;
      const slice: PullSlice = {
        profileId,
        advertiserId: adv.advertiserId,
        advertiserName: adv.advertiserName,
        currency: profile.currency_code,
        level: LEVEL[kind],
        ...window,
        version,
        pulledAt,
      };
      let clean = true;
      try {
        const request = attributionRequest(kind, {
          startDate: window.from,
          endDate: window.to,
          advertiserId: adv.advertiserId,
        });
        for await (const page of attributionReportPages(client, profileId, request)) {
          const facts = [];
          for (const row of page)
            try {
              facts.push(
                kind === 'PRODUCTS'
                  ? productFact(row, profile.currency_code)
                  : performanceFact(row, profile.currency_code),
              );
            } catch (err) {
              if (!(err instanceof AttributionRowError)) throw err;
              clean = false;
              if (outcome.badRows.length < 20)
                outcome.badRows.push({ kind, advertiserId: adv.advertiserId, reason: err.message });
              log.warn(
                { kind, advertiserId: adv.advertiserId, reason: err.message },
                'an attribution row was kept out',
              );
            }
          await writeAttributionRows(ch, slice, facts);
          outcome.rows += facts.length;
        }
        if (clean) await dropOlderPulls(ch, slice);
      } catch (err) {
        // Our own stores down: the caller's run is retried whole. Amazon failing one report: that report only.
        if (isDependencyOutage(err)) throw err;
        whole = false;
        outcome.failed.push({ kind, advertiserId: adv.advertiserId, reason: reasonOf(err) });
        log.warn({ kind, advertiserId: adv.advertiserId, err: reasonOf(err) }, 'an attribution report failed');
      }
    }
    // The advertiser's mark moves only when every one of its reports loaded.
    if (whole) await recordAdvertiserPulled(db, profileId, adv.advertiserId, to);
  }
  const reportsFailed = outcome.failed.filter((f) => f.kind !== 'TAGS').length;
  const anyLoaded = reportsFailed < advertisers.length * ATTRIBUTION_REPORT_KINDS.length;
  if (advertisers.length && !anyLoaded) {
    outcome.state = 'failed';
    outcome.reason = outcome.failed[0]?.reason;
    await recordAttributionState(db, profileId, 'failed', outcome.reason ?? null);
  } else {
    // A pull that lost a report moves the mark only when nothing failed, so the next pull takes those days again.
    await recordAttributionState(
      db,
      profileId,
      'enabled',
      outcome.failed.length ? `${outcome.failed.length} report(s) failed: ${outcome.failed[0]!.reason}` : null,
      // The mark moves only when every report of every advertiser loaded (with none, nothing was pulled).
      reportsFailed || !advertisers.length ? undefined : { through: to, at: pulledAt },
    );
  }
  log.info(
    { advertisers: outcome.advertisers, tags: outcome.tags, rows: outcome.rows, failed: outcome.failed.length },
    'Amazon Attribution pulled',
  );
  return outcome;
}
