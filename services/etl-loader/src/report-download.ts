/**
 * report.ready → rows.parsed. Streams the gzip JSON download (never the whole file
 * in memory), normalises each row, and publishes bounded batches keyed by the
 * pending report so they stay in order on one partition. Rows that do not parse
 * are dead-lettered with the reason; the rest of the report loads. An expired
 * download URL is refreshed by reading the report's status again.
 */
import { randomUUID } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { Knex } from '@adsync/shared/db/postgres';
import type { Logger } from '@adsync/shared/logger';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import type { AmazonClients } from '@adsync/shared/amazon/account-clients';
import { AmazonApiError } from '@adsync/shared/amazon/errors';
import { getReportStatus } from '@adsync/shared/amazon/reporting';
import { REPORT_TYPES } from '@adsync/shared/amazon/report-catalog';
import { AppError, PermanentError } from '@adsync/shared/runtime/errors';
import type { MetricRow, ReportReady, RowsParsed } from '@adsync/shared/events/contracts';
import { reportRuns } from './report-file.ts';
import { addDays } from '@adsync/shared/calendar';
import * as reports from '@adsync/shared/reports/pending-reports';
import { measureColumnsFor, normaliseRow } from './report-row.ts';
import { findProfile } from '@adsync/shared/accounts/profiles';
import { ownerLogFields, ownerOfRow } from '@adsync/shared/reports/report-owner';
import { advertiserCurrency } from '@adsync/shared/accounts/dsp-advertisers';

export interface DownloadDeps {
  db: Knex;
  bus: EventBus;
  clients: AmazonClients;
  log: Logger;
  /** Rows per rows.parsed event (bounded message size). */
  rowsPerEvent: number;
  /** Events published per send (one broker round trip). */
  eventsPerSend?: number;
}

export interface DownloadResult {
  rows: number;
  badRows: number;
  events: number;
}

export async function processReadyReport(deps: DownloadDeps, ev: ReportReady): Promise<DownloadResult> {
  const { db } = deps;
  const log = deps.log.child({
    ...(ev.dspAccountId ? { dspAccountId: ev.dspAccountId } : { profileId: ev.profileId }),
    pendingReportId: ev.pendingReportId,
    reportId: ev.reportId,
    reportType: ev.reportType,
    runId: ev.runId,
  });
  const report = await reports.findReport(db, ev.pendingReportId);
  if (!report) throw new PermanentError(`pending report ${ev.pendingReportId} is not recorded`);
  // Whose report it is comes from our own record, not from the event.
  const owner = ownerOfRow(report);
  const profile = owner.profileId !== undefined ? await findProfile(db, owner.profileId) : undefined;
  if (owner.profileId !== undefined && !profile) throw new PermanentError(`profile ${owner.profileId} is not recorded`);
  const spec = REPORT_TYPES[ev.reportType];
  if (!spec) throw new PermanentError(`unknown report type ${ev.reportType}`);
  // The pull's version: fixed per report, so a redelivered report writes identical versions.
  const pulledAt = new Date(report.completed_at ?? ev.occurredAt).toISOString();
  const { client } = await deps.clients.forOwner(owner);

  let url = report.download_url ?? ev.downloadUrl;
  let download;
  try {
    download = await client.download(url);
  } catch (err) {
    if (!(err instanceof AmazonApiError && err.kind === 'url_expired')) throw err;
    const fresh = await getReportStatus(client, owner, ev.reportId);
    if (!fresh.url)
      throw new AppError(
        'AMAZON_REPORT_GONE',
        `report ${ev.reportId} has no download URL any more (status ${fresh.status})`,
        { retriable: false, cause: err },
      );
    url = fresh.url;
    await reports.setDownloadUrl(db, ev.pendingReportId, url);
    log.info('download URL expired; refreshed from the report status');
    download = await client.download(url);
  }

  const ctx = {
    reportTypeId: ev.reportType,
    // A DSP row names its own currency (orderCurrency); else the profile's, or the advertiser's when Amazon gave one.
    currency: profile?.currency_code ?? (await advertiserCurrency(db, owner.dspAccountId!)) ?? '',
    startDate: ev.startDate,
    endDate: ev.endDate,
  };
  const measureColumns = measureColumnsFor(ev.reportType);
  const perDay = new Map<string, number>();
  let batch: MetricRow[] = [];
  let pendingEvents: RowsParsed[] = [];
  let batchIndex = 0;
  let rows = 0;
  let badRows = 0;
  const bad: { key: string; value: Buffer; reason: string; step: string }[] = [];
  const eventsPerSend = deps.eventsPerSend ?? 1;

  // One publish in flight while the next rows are parsed; publishes stay in order, so the
  // last batch (which marks the report loaded) is never ahead of the others.
  let sending: Promise<void> = Promise.resolve();
  const send = async (force: boolean) => {
    if (pendingEvents.length === 0 || (!force && pendingEvents.length < eventsPerSend)) return;
    const events = pendingEvents;
    pendingEvents = [];
    await sending;
    sending = deps.bus.publish('rows.parsed', events, (e) => e.pendingReportId);
    sending.catch(() => undefined); // awaited by the next send or the last one
    if (force) await sending;
  };
  const cut = async (last: boolean) => {
    pendingEvents.push({
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      pendingReportId: ev.pendingReportId,
      profileId: owner.profileId ?? '',
      reportId: ev.reportId,
      reportType: ev.reportType,
      entityLevel: spec.entityLevel,
      batchIndex: batchIndex++,
      lastBatch: last,
      pulledAt,
      measureColumns,
      rows: batch,
    });
    batch = [];
    await send(last);
  };
  const flushBad = async () => {
    if (bad.length) await deps.bus.deadLetter('report.ready', bad.splice(0));
  };

  // Large output chunks: each is decoded and scanned as one run, where 16 KiB ones cost a callback and a scan each.
  const gunzip = download.body.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  download.body.on('error', (err) => gunzip.destroy(err));
  for await (const run of reportRuns(gunzip)) {
    for (const el of run) {
      if (!el.ok) {
        badRows++;
        bad.push({
          key: ev.pendingReportId,
          value: Buffer.from(el.text.slice(0, 10_000)),
          reason: `row does not parse: ${el.error}`,
          step: 'parse-row',
        });
      } else {
        const n = normaliseRow(el.value, ctx);
        if (!n.ok) {
          badRows++;
          bad.push({
            key: ev.pendingReportId,
            value: Buffer.from(JSON.stringify(el.value).slice(0, 10_000)),
            reason: n.reason,
            step: 'normalise-row',
          });
        } else {
          rows++;
          batch.push(n.row);
          perDay.set(n.row.date, (perDay.get(n.row.date) ?? 0) + 1);
          if (batch.length >= deps.rowsPerEvent) await cut(false);
        }
      }
      if (bad.length >= 500) await flushBad();
    }
  }
  await flushBad();
  // Always a last batch, even an empty one, so the loader learns the report is complete.
  await cut(true);

  // Completeness: every day of the window gets a record of this pull, zero-row days included.
  const days: string[] = [];
  for (let d = ev.startDate; d <= ev.endDate; d = addDays(d, 1)) days.push(d);
  await reports.recordParsed(db, {
    id: ev.pendingReportId,
    owner,
    reportType: ev.reportType,
    pulledAt,
    rows,
    badRows,
    perDay,
    days,
  });
  log.info({ rows, badRows, events: batchIndex, ...ownerLogFields(owner) }, 'report parsed');
  return { rows, badRows, events: batchIndex };
}
