/**
 * What stream-consumer does with an SNS message before acting on it: its signature is
 * verified with the certificate at its SigningCertURL, fetched only from an SNS host
 * (or the local sandbox's origin the stack trusts), and a SubscribeURL is fetched only
 * through the same guard (packages/shared/src/http/outbound.ts). A URL the guard refuses
 * is the message's fault (a dead letter); a fetch that fails is SNS's (try again).
 */
import {
  OutboundRefusedError,
  checkOutboundUrl,
  outboundRequest,
  type OutboundPolicy,
} from '@adsync/shared/http/outbound';
import { snsSignatureProblem, type SnsMessage } from '@adsync/shared/streams/sns-signature';

export interface SnsGateOptions {
  /** Hosts SNS URLs may name (STREAM_SUBSCRIBE_URL_HOSTS). */
  hosts: string[];
  /** Origins reached as they are: the local sandbox (OUTBOUND_TRUSTED_ORIGINS), none in production. */
  trustedOrigins: string[];
  /** How many receives of a confirmation may fail before it is a dead letter. */
  confirmAttempts: number;
  /**
   * Whether a record without its SNS envelope (raw message delivery) is acted on. It carries no
   * signature, so anyone who may send to the queue could write it; Marketing Stream delivers
   * envelopes. Off unless a deployment says its queue gets raw delivery (STREAM_ACCEPT_RAW_RECORDS).
   */
  acceptRawRecords?: boolean;
}

/** What the gate decided: the message may be acted on, must be dead-lettered, or should come again. */
export type Verdict = { ok: true } | { ok: false; deadLetter: string } | { ok: false; retry: string };

const MAX_CERTIFICATES = 64;
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class SnsGate {
  readonly confirmAttempts: number;
  private readonly acceptRaw: boolean;
  private readonly subscribe: OutboundPolicy;
  private readonly certificates: OutboundPolicy;
  private readonly cache = new Map<string, Promise<string>>();

  constructor(o: SnsGateOptions) {
    this.confirmAttempts = o.confirmAttempts;
    this.acceptRaw = o.acceptRawRecords ?? false;
    this.subscribe = { purpose: 'SNS SubscribeURL', hosts: o.hosts, trustedOrigins: o.trustedOrigins };
    this.certificates = {
      purpose: 'SNS SigningCertURL',
      hosts: o.hosts,
      // SNS's certificates live at /SimpleNotificationService-<32 hex>.pem (AWS's validators insist on it too).
      paths: [/^\/SimpleNotificationService-[0-9a-f]{32}\.pem$/],
      trustedOrigins: o.trustedOrigins,
    };
  }

  /** Whether the message was signed by SNS (by the certificate its SigningCertURL names). */
  async verify(m: SnsMessage): Promise<Verdict> {
    try {
      checkOutboundUrl(m.SigningCertURL, this.certificates);
    } catch (err) {
      return { ok: false, deadLetter: (err as Error).message };
    }
    let pem: string;
    try {
      pem = await this.certificate(m.SigningCertURL);
    } catch (err) {
      if (err instanceof OutboundRefusedError) return { ok: false, deadLetter: err.message };
      return { ok: false, retry: `the SNS signing certificate could not be fetched: ${(err as Error).message}` };
    }
    const problem = snsSignatureProblem(m, pem);
    return problem ? { ok: false, deadLetter: `SNS signature refused: ${problem}` } : { ok: true };
  }

  /** Whether a record that came without an SNS envelope may be acted on. */
  raw(): Verdict {
    return this.acceptRaw
      ? { ok: true }
      : {
          ok: false,
          deadLetter:
            'a record without its SNS envelope: it carries no signature, so it is not acted on (set STREAM_ACCEPT_RAW_RECORDS=true only for a queue that gets raw delivery)',
        };
  }

  /** Visits a SubscribeURL as SNS asks, through the guard. */
  async confirm(subscribeUrl: string): Promise<Verdict> {
    try {
      checkOutboundUrl(subscribeUrl, this.subscribe);
    } catch (err) {
      return { ok: false, deadLetter: (err as Error).message };
    }
    try {
      const res = await outboundRequest(subscribeUrl, this.subscribe, { timeoutMs: 15_000 });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300
        ? { ok: true }
        : { ok: false, retry: `the SubscribeURL answered ${res.statusCode}` };
    } catch (err) {
      if (err instanceof OutboundRefusedError) return { ok: false, deadLetter: err.message };
      return { ok: false, retry: `the SubscribeURL failed: ${(err as Error).message}` };
    }
  }

  private certificate(url: string): Promise<string> {
    let pending = this.cache.get(url);
    if (!pending) {
      pending = (async () => {
        const res = await outboundRequest(url, this.certificates, { timeoutMs: 15_000 });
        // A certificate is a few kilobytes; a URL that answers more is not SNS's.
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > MAX_CERTIFICATE_BYTES) {
          await res.body.dump();
          throw new OutboundRefusedError(
            'SNS SigningCertURL',
            url,
            `the answer is ${declared} bytes, not a certificate`,
          );
        }
        const text = (await res.body.text()).slice(0, MAX_CERTIFICATE_BYTES);
        if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
        if (!text.includes('-----BEGIN CERTIFICATE-----'))
          throw new OutboundRefusedError('SNS SigningCertURL', url, 'the answer is not a PEM certificate');
        return text;
      })();
      // A failed fetch is forgotten, so the next message tries again.
      pending.catch(() => this.cache.delete(url));
      if (this.cache.size >= MAX_CERTIFICATES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url, pending);
    }
    return pending;
  }
}

/** The gate a test or benchmark uses against a local sandbox: SNS's hosts, and the sandbox's origin trusted. */
export const sandboxSnsGate = (sandboxUrl: string, confirmAttempts = 5) =>
  new SnsGate({ hosts: ['sns.*.amazonaws.com'], trustedOrigins: [new URL(sandboxUrl).origin], confirmAttempts });
