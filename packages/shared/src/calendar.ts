/**
 * A formatter per zone and options, made once: building an Intl.DateTimeFormat costs about a
 * millisecond, and report planning asks for every profile's today. A zone Intl refuses throws,
 * as before, and is not kept.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    if (formatters.size < 1000) formatters.set(key, f);
  }
  return f;
}

/** Calendar days as 'YYYY-MM-DD' strings. Amazon's report days are marketplace-local: "today" is the profile's today. */
export function localToday(timeZone: string, now: Date = new Date()): string {
  return formatter('en-CA', timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export const daysBetween = (a: string, b: string): number =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

/** A wall-clock time in a zone → the UTC instant, as AMC reports windows (execute-workflow.md sample: 00:00 New York → 04:00Z). */
export function zonedToUtc(local: string, timeZone: string): string {
  if (local.endsWith('Z')) return local;
  const asUtc = Date.parse(`${local}Z`);
  const parts = formatter('en-US', timeZone, {
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(asUtc));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - asUtc;
  return new Date(asUtc - offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
