import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Secrets must never reach a log line, whatever object a caller logs. These paths
 * cover credentials, tokens and auth headers at the depths they appear in our code.
 */
export const REDACT_PATHS = [
  '*.refreshToken',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.accessToken',
  '*.access_token',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.secret',
  '*.token',
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.*.refreshToken',
  '*.*.clientSecret',
  '*.*.accessToken',
  '*.*.refresh_token',
  '*.*.client_secret',
];

export interface LoggerConfig {
  level?: string;
  name: string;
  /** Pretty output for humans; JSON otherwise. Defaults to "stdout is a terminal". */
  pretty?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(cfg: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: cfg.name,
    level: cfg.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = cfg.pretty ?? (process.stdout.isTTY === true && !cfg.destination);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  // Asynchronous writes: under load (a status endpoint answering thousands of requests a
  // second) lines queue behind the write in flight and leave in one write, where a
  // synchronous write per line cost a third of the process's CPU. pino flushes on exit;
  // a kill -9 can lose the lines of the last write.
  return pino(options, cfg.destination ?? pino.destination({ dest: 1, sync: false }));
}
