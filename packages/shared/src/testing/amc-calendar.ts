/**
 * AMC tests write their windows on a fixed 2025 calendar (2025-01-01 … 2025-09-30) so that
 * windows, gaps and the rows they produce can be read side by side. AMC holds only the last
 * 13 months and nothing yet to come, so each date is moved by whole weeks (weekdays kept) to
 * where 2025-01-01 falls about 320 days before today.
 */
const DAY = 86_400_000;
const BASE = Date.UTC(2025, 0, 1);

function shiftMs(now = new Date()): number {
  const anchor = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 320 * DAY;
  return Math.floor((anchor - BASE) / (7 * DAY)) * 7 * DAY;
}

/** A fixture date ("2025-03-01T00:00:00" or "2025-03-01 00:00:00") moved into AMC's retention, same format. */
export function amcDate(fixture: string, now = new Date()): string {
  const m = /^(2025-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})$/.exec(fixture);
  if (!m) throw new Error(`${fixture} is not a 2025 fixture date (yyyy-MM-ddTHH:mm:ss)`);
  const moved = new Date(Date.parse(`${m[1]}T${m[3]}Z`) + shiftMs(now)).toISOString().slice(0, 19);
  return m[2] === ' ' ? moved.replace('T', ' ') : moved;
}
