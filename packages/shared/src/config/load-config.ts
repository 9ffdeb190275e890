import { z } from 'zod';
import { AppError } from '../runtime/errors.ts';

/** Thrown once at start-up; the message names every bad variable so the operator can fix them all at once. */
export class ConfigError extends AppError {
  readonly problems: { variable: string; problem: string }[];
  constructor(problems: { variable: string; problem: string }[]) {
    super(
      'ADSYNC_ERR_CONFIG',
      'Invalid configuration:\n' + problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n'),
      { retriable: false },
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the given environment once and validates it against `shape`. Each key of
 * `shape` is the environment variable name, so error messages name the variable.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const raw = env[key];
    // An empty variable means "not set": `FOO= node app` should fall back to the default.
    input[key] = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  }
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(unknown)'),
        problem: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** Comma-separated host:port list, e.g. KAFKA_BROKERS. */
export const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), {
    message: 'expected a comma-separated list of host:port',
  });

export const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.join(' or ')})` },
  );

/** One URL, or several separated by commas, each of these protocols (kept as the text). */
export const urlList = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      const urls = s.split(',').map((u) => u.trim());
      return (
        urls.length > 0 &&
        urls.every((u) => {
          try {
            return protocols.includes(new URL(u).protocol.replace(':', ''));
          } catch {
            return false;
          }
        })
      );
    },
    { message: `expected a URL (${protocols.join(' or ')}), or several separated by commas` },
  );

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
