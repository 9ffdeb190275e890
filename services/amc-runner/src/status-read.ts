/**
 * The status endpoint's read: a dashboard of 200 clients polling the same few
 * executions must neither queue on Postgres nor exhaust the instance's AMC rate
 * limit. One read per execution per `freshMs` (shared by every caller meanwhile,
 * single flight) and everyone else is answered from memory for `memoMs`. AMC is
 * asked at most once per `freshMs` (see refreshStatus); the record is read at most
 * once per `memoMs`, so a transition the tick or another replica made shows within it.
 */
import { instanceIdOfExecution, refreshStatus, type AmcDeps } from './executions.ts';
import { accountOfInstanceIn } from './instances.ts';

export interface StatusRead {
  id: string;
  status: string;
  amcStatus: string | null;
  failureReason: string | null;
}

const MAX_ENTRIES = 10_000;

export function createStatusReader(deps: AmcDeps, opts: { freshMs?: number; memoMs?: number } = {}) {
  const freshMs = opts.freshMs ?? 1000;
  const memoMs = opts.memoMs ?? 250;
  const memo = new Map<string, { at: number; value: Promise<StatusRead | null> }>();
  // An execution never changes account, so whose it is can be remembered for good.
  const owners = new Map<string, string>();

  /** The account an execution belongs to, or null when there is no such execution. */
  const ownerOf = async (id: string): Promise<string | null> => {
    const known = owners.get(id);
    if (known) return known;
    const accountId = await accountOfInstanceIn(deps.db, instanceIdOfExecution(deps.db, id));
    if (!accountId) return null;
    if (owners.size >= MAX_ENTRIES) owners.clear();
    owners.set(id, accountId);
    return accountId;
  };

  const read = async (id: string): Promise<StatusRead | null> => {
    const e = await refreshStatus(deps, id, freshMs).catch((err: Error) => {
      if (err.message === `no execution ${id}`) return null;
      throw err;
    });
    if (!e) return null;
    return {
      id: e.id as string,
      status: e.status as string,
      amcStatus: (e.amc_status as string | null) ?? null,
      failureReason: (e.failure_reason as string | null) ?? null,
    };
  };

  const status = (id: string): Promise<StatusRead | null> => {
    const now = Date.now();
    const hit = memo.get(id);
    if (hit && now - hit.at < memoMs) return hit.value;
    if (memo.size >= MAX_ENTRIES) for (const [k, v] of memo) if (now - v.at >= memoMs) memo.delete(k);
    const value = read(id);
    memo.set(id, { at: now, value });
    // A failed read (Postgres or AMC down) is not remembered: the next caller tries again.
    value.catch(() => memo.get(id)?.value === value && memo.delete(id));
    return value;
  };

  return { ownerOf, status };
}
