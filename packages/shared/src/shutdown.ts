/**
 * SIGTERM/SIGINT handling for a service's entry point: the steps run once (a second
 * signal while stopping is ignored), in order, and the process exits 0 when they
 * finish or 1 if one of them throws.
 */
import type { Logger } from './logger.ts';

export function onShutdown(log: Logger, steps: (signal: string) => Promise<void>): { stopping(): boolean } {
  let stopping = false;
  const run = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    try {
      await steps(signal);
      process.exit(0);
    } catch (err) {
      log.error({ err, signal }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void run('SIGTERM'));
  process.on('SIGINT', () => void run('SIGINT'));
  return { stopping: () => stopping };
}
