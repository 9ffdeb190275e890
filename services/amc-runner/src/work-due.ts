/**
 * When amc-runner's executions loop next has work, so it sleeps until then: an execution's next
 * status check or retry, and while any schedule exists or any cancellation is unconfirmed, AMC's
 * next look (schedule-started runs are only found by asking AMC; a cancellation is confirmed there).
 */
import type { Knex } from '@adsync/shared/db/postgres';
import { earliestDue } from '@adsync/shared/runtime/work-queue';
import { anyUnconfirmedCancellation, executionsDueIn } from './executions.ts';
import { anySchedule } from './schedules.ts';

export async function amcWorkDueIn(db: Knex, pollIntervalMs: number): Promise<number | null> {
  const asking = (await anySchedule(db)) || (await anyUnconfirmedCancellation(db));
  return earliestDue(await executionsDueIn(db), asking ? pollIntervalMs : null);
}
