/** One valid event per topic, for tests and the demo's self-check. */
import type { EventMap, TopicName } from '../events/contracts.ts';

export function sampleEvent<T extends TopicName>(topic: T, eventId: string): EventMap[T] {
  const base = {
    eventId,
    occurredAt: '2026-11-20T10:00:00.000Z',
    pendingReportId: 'pr-1',
    profileId: '1001',
    reportId: 'rep-1',
    reportType: 'spCampaigns',
  };
  const samples: EventMap = {
    'report.requested': {
      ...base,
      adProduct: 'SPONSORED_PRODUCTS',
      startDate: '2026-11-01',
      endDate: '2026-11-07',
      columns: ['date', 'campaignId', 'impressions'],
      runId: null,
      dspAccountId: null,
    },
    'report.ready': {
      ...base,
      startDate: '2026-11-01',
      endDate: '2026-11-07',
      downloadUrl: 'http://127.0.0.1/dl/rep-1.json.gz',
      fileSize: 1234,
      runId: 'run-9',
      dspAccountId: null,
    },
    'rows.parsed': {
      ...base,
      entityLevel: 'campaign',
      batchIndex: 0,
      lastBatch: true,
      pulledAt: '2026-11-20T10:05:00.000Z',
      // The compact form producers write: the batch names the measure columns once.
      measureColumns: ['sales_7d_micros', 'purchases_7d', 'units_sold_clicks_7d'],
      rows: [
        {
          date: '2026-11-01',
          entityId: '111',
          campaignId: '111',
          adGroupId: null,
          currency: 'USD',
          impressions: 10,
          clicks: 2,
          costMicros: 1_500_000,
          salesMicros: 9_990_000,
          orders: 1,
          units: 1,
          attributes: { campaignName: 'Brand – exact' },
          measures: {},
          measureValues: [9_990_000, 1, 1],
        },
      ],
    },
    'report.loaded': {
      ...base,
      entityLevel: 'campaign',
      startDate: '2026-11-01',
      endDate: '2026-11-07',
      rows: 42,
      requestedAt: '2026-11-20T09:58:00.000Z',
      runId: null,
      dspAccountId: null,
    },
    'job.created': {
      eventId,
      occurredAt: '2026-11-20T10:00:00.000Z',
      jobId: 'job-1',
      userId: 'user-1',
      supplierId: 'bigbuy',
      jobType: 'inventory_update',
      priority: 5,
      attempt: 1,
    },
  };
  return samples[topic];
}
