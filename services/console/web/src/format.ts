/** An instant the APIs answer (ISO 8601) in the reader's locale and zone; nothing for none. Pure. */
export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '');
