import type { Page } from '../api.ts';

/** Previous and next for a list the API answers a page at a time. */
export function Pager({
  page,
  shown,
  onOffset,
  label,
}: {
  page: Page | undefined;
  /** How many items this page holds (a last page may hold fewer than the limit). */
  shown: number;
  onOffset: (o: number) => void;
  label: string;
}) {
  if (!page || (page.offset === 0 && page.nextOffset === null)) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button
        type="button"
        disabled={page.offset === 0}
        onClick={() => onOffset(Math.max(0, page.offset - page.limit))}
      >
        Previous
      </button>
      <span>
        {page.offset + 1}–{page.offset + shown}
      </span>
      <button
        type="button"
        disabled={page.nextOffset === null}
        onClick={() => onOffset(page.nextOffset ?? page.offset)}
      >
        Next
      </button>
    </nav>
  );
}
