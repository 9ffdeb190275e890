/**
 * Every fetch of a URL that came from outside — an SNS SubscribeURL or SigningCertURL, a
 * presigned download URL in an Amazon answer, a webhook or marketplace endpoint a user
 * registered — goes through here, so it can reach only whom it must (OWASP's SSRF
 * guidance, as AWS's own SNS validators apply it):
 *  - the URL is parsed the WHATWG way, which also normalises what tricks rely on
 *    (numeric and short IPv4 forms, IPv6, IDNA, case); a backslash, control character,
 *    user info or a scheme other than http(s) is refused before parsing can be argued with;
 *  - https only, and the host must match the purpose's allow-list, if it has one;
 *  - an IP literal is refused: allow-lists name hosts;
 *  - at connect time, every address the name resolves to must be public: not loopback,
 *    private, link-local (the cloud metadata address among them), unique-local, CGNAT,
 *    multicast or reserved (ipaddr.js classifies them), so DNS rebinding gains nothing;
 *  - redirects are never followed.
 * Origins the deployment trusts outright (the local sandbox the stack runs) are the only
 * exception: they may be http and private. In production there are none.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request, type Dispatcher } from 'undici';
import { AppError } from '../runtime/errors.ts';

export interface OutboundPolicy {
  /** What is fetched, for errors and logs: "SNS SubscribeURL", "webhook", "report download". */
  purpose: string;
  /**
   * Hosts the URL may name: an exact name, `*.example.com` (exactly one more label) or
   * `.example.com` (any depth below it). Null: any public host (a user's own endpoint).
   */
  hosts: string[] | null;
  /** Paths the URL may have (regular expressions), when the purpose fixes them (SNS certificates). */
  paths?: RegExp[];
  /** Origins (scheme://host:port) reached as they are, http and private addresses included (the local sandbox). */
  trustedOrigins?: string[];
  /** How names resolve (tests play DNS rebinding with it); the system resolver otherwise. */
  resolve?: typeof dnsLookup;
}

/** A URL refused before any connection: never retried, the reason says why. */
export class OutboundRefusedError extends AppError {
  readonly url: string;
  constructor(purpose: string, url: string, reason: string) {
    super('OUTBOUND_URL_REFUSED', `${purpose} ${truncate(url)} refused: ${reason}`, { retriable: false });
    this.url = url;
  }
}

const truncate = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** The origins a deployment trusts, from a comma-separated setting (each parsed and normalised). */
export function parseTrustedOrigins(setting: string | undefined): string[] {
  return (setting ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${s} is not an http(s) origin`);
      return u.origin;
    });
}

/** Whether a normalised host name matches an allow-list entry. */
export function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('.')) return host.endsWith(p) && host.length > p.length;
  if (p.startsWith('*.')) {
    const rest = p.slice(1);
    return host.endsWith(rest) && !host.slice(0, -rest.length).includes('.') && host.length > rest.length;
  }
  const labels = p.split('.');
  const got = host.split('.');
  return labels.length === got.length && labels.every((l, i) => l === '*' || l === got[i]);
}

const isIpLiteral = (hostname: string) => ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));

/**
 * Checks a URL against a policy without touching the network; the parsed URL when it
 * may be fetched. Pure.
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy): URL {
  const refuse = (reason: string): never => {
    throw new OutboundRefusedError(policy.purpose, raw, reason);
  };
  if (typeof raw !== 'string' || raw.length === 0) refuse('no URL');
  if (raw.length > 4096) refuse('the URL is longer than 4096 characters');
  // WHATWG parsing turns "\" into "/" for http(s) and drops tabs and newlines: whoever wrote them meant something else.
  if (raw.includes('\\')) refuse('a backslash in the URL');
  if ([...raw].some((c) => c.charCodeAt(0) <= 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)))
    refuse('a control character or space in the URL');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return refuse('not a URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') refuse(`scheme ${u.protocol} (only https)`);
  if (u.username || u.password) refuse('user info in the URL');
  if ((policy.trustedOrigins ?? []).includes(u.origin)) return u;
  if (u.protocol !== 'https:') refuse('http (only https)');
  const host = u.hostname.toLowerCase();
  if (isIpLiteral(host)) refuse(`an IP address (${host}), not a host name`);
  if (!host.includes('.') || host.endsWith('.')) refuse(`host ${host} is not a public name`);
  if (policy.hosts && !policy.hosts.some((p) => hostMatches(host, p)))
    refuse(`host ${host} is not among ${policy.hosts.join(', ')}`);
  if (policy.paths && !policy.paths.some((p) => p.test(u.pathname))) refuse(`path ${u.pathname} is not allowed`);
  return u;
}

/** Whether an address may be connected to: public unicast only (ipaddr.js's range names the rest). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let a = ipaddr.parse(address);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.range() === 'unicast';
}

/**
 * A resolver for connections: a name must resolve to public addresses only, all of them (a
 * name that also resolves to a private address is refused, so which one a connection picks
 * cannot matter). Trusted origins never come here: they have a pool of their own, so trusting
 * one host and port exempts no other port of that host.
 */
export function guardedLookup(purpose: string, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return ((hostname: string, options: unknown, callback: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean; family?: number };
    resolve(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err) return cb(err, []);
      const bad = addresses.find((a) => !isPublicAddress(a.address));
      if (bad)
        return cb(
          new OutboundRefusedError(purpose, hostname, `it resolves to ${bad.address}, not a public address`),
          [],
        );
      if (opts.all) return cb(null, addresses);
      const first = addresses[0]!;
      cb(null, first.address, first.family);
    });
  }) as LookupFunction;
}

const pools = new WeakMap<OutboundPolicy, { guarded: Dispatcher; trusted: Dispatcher | null }>();

function poolsOf(policy: OutboundPolicy) {
  let p = pools.get(policy);
  if (!p) {
    p = {
      guarded: new Agent({
        connect: { lookup: guardedLookup(policy.purpose, policy.resolve) },
        keepAliveTimeout: 10_000,
        connections: 16,
      }),
      trusted: null,
    };
    pools.set(policy, p);
  }
  return p;
}

/** The connection pool of a policy (one per policy object): every connection goes through the guarded resolver. */
export function outboundDispatcher(policy: OutboundPolicy): Dispatcher {
  return poolsOf(policy).guarded;
}

/** The pool for the policy's trusted origins only (the local sandbox): resolved as they are. */
function trustedDispatcher(policy: OutboundPolicy): Dispatcher {
  const p = poolsOf(policy);
  p.trusted ??= new Agent({
    ...(policy.resolve ? { connect: { lookup: policy.resolve as unknown as LookupFunction } } : {}),
    keepAliveTimeout: 10_000,
    connections: 16,
  });
  return p.trusted;
}

/** Closes a policy's pools (a client that owns a policy closes it with itself). */
export async function closeOutbound(policy: OutboundPolicy): Promise<void> {
  const p = pools.get(policy);
  if (!p) return;
  pools.delete(policy);
  await Promise.all([p.guarded.close(), p.trusted?.close()]);
}

export interface OutboundRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** The refusal inside a connection error, if the guarded resolver refused. */
function refusalIn(err: unknown): OutboundRefusedError | null {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++)
    if (e instanceof OutboundRefusedError) return e;
  return null;
}

/**
 * Fetches a URL that came from outside, as its policy allows: a refused URL throws
 * OutboundRefusedError (never retried), and a redirect is answered as it is, not followed.
 */
export async function outboundRequest(
  raw: string,
  policy: OutboundPolicy,
  init: OutboundRequest = {},
): Promise<Dispatcher.ResponseData> {
  const url = checkOutboundUrl(raw, policy);
  try {
    return await request(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      dispatcher: (policy.trustedOrigins ?? []).includes(url.origin)
        ? trustedDispatcher(policy)
        : outboundDispatcher(policy),
      headersTimeout: init.timeoutMs ?? 30_000,
      bodyTimeout: init.timeoutMs ?? 30_000,
    });
  } catch (err) {
    throw refusalIn(err) ?? err;
  }
}
