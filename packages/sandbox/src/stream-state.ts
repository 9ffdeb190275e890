/**
 * Marketing Stream's subscriptions and what was sent to them. Kept apart from the routes
 * so that state.ts can hold them without importing them: they import state.ts.
 */
import type { EntityStreamDataset, StreamDataset, StreamRecord } from './stream-data.ts';

export type SubscriptionStatus =
  | 'PROVISIONING'
  | 'PENDING_CONFIRMATION'
  | 'ACTIVE'
  | 'ARCHIVED'
  | 'FAILED_CONFIRMATION'
  | 'FAILED_PROVISIONING'
  | 'SUSPENDED';

export interface StreamSubscription {
  subscriptionId: string;
  clientRequestToken: string;
  /** The profile whose scope made it; '' for a DSP advertiser's (accountId). */
  profileId: string;
  profileIndex: number;
  /** The DSP advertiser (Amazon-Ads-Account-ID) whose adsp-* subscription this is. */
  accountId?: string;
  dataSetId: StreamDataset | EntityStreamDataset;
  destinationArn: string;
  notes?: string;
  status: SubscriptionStatus;
  createdDate: string;
  updatedDate: string;
  confirmationToken: string;
}

export interface StreamState {
  subscriptions: Map<string, StreamSubscription>;
  /** Every distinct record sent, by idempotency id (budget usage: by scope and time), for the exact totals. */
  sent: Map<string, StreamRecord>;
  messagesSent: number;
  duplicatesSent: number;
}

export const newStreamState = (): StreamState => ({
  subscriptions: new Map(),
  sent: new Map(),
  messagesSent: 0,
  duplicatesSent: 0,
});
