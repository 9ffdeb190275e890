/**
 * Amazon SNS message signatures, as AWS documents them ("Verifying the signatures of
 * Amazon SNS messages") and its own validators implement them: the message's fields,
 * in a fixed order, each as "Name\nvalue\n", signed with RSA over SHA1
 * (SignatureVersion 1) or SHA256 (2) by the certificate at SigningCertURL. Pure: the
 * certificate comes from the caller, who fetches it only from an SNS host
 * (outbound.ts). The sandbox signs with the same string, so a test proves both sides.
 */
import { createSign, createVerify, X509Certificate } from 'node:crypto';

export interface SnsMessage {
  Type: string;
  MessageId: string;
  Message: string;
  Timestamp: string;
  TopicArn: string;
  Subject?: string | null;
  SubscribeURL?: string;
  Token?: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

/** The fields each message type signs, in the order AWS concatenates them. */
type SignedField = 'Message' | 'MessageId' | 'Subject' | 'SubscribeURL' | 'Timestamp' | 'Token' | 'TopicArn' | 'Type';
const SIGNED_FIELDS: Record<string, SignedField[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const ALGORITHMS: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

/** The string AWS signs for a message (a missing optional Subject is left out). */
export function snsStringToSign(m: Pick<SnsMessage, 'Type'> & Partial<Pick<SnsMessage, SignedField>>): string {
  const fields = SIGNED_FIELDS[m.Type];
  if (!fields) throw new Error(`SNS messages of type ${m.Type} are not signed this way`);
  let out = '';
  for (const f of fields) {
    const v = m[f];
    if (v === undefined || v === null) {
      if (f === 'Subject') continue;
      throw new Error(`the SNS ${m.Type} has no ${f}`);
    }
    out += `${f}\n${String(v)}\n`;
  }
  return out;
}

/** Whether a value is an SNS message envelope (the fields every signed type carries). */
export function isSnsMessage(v: unknown): v is SnsMessage {
  const o = v as Record<string, unknown> | null;
  return (
    !!o &&
    typeof o === 'object' &&
    ['Type', 'MessageId', 'Message', 'Timestamp', 'TopicArn', 'SignatureVersion', 'Signature', 'SigningCertURL'].every(
      (k) => typeof o[k] === 'string',
    )
  );
}

/** Null when the signature verifies with the certificate; otherwise why not. */
export function snsSignatureProblem(m: SnsMessage, certificatePem: string, now = new Date()): string | null {
  const algorithm = ALGORITHMS[m.SignatureVersion];
  if (!algorithm) return `SignatureVersion ${m.SignatureVersion} is not 1 or 2`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    return 'the signing certificate is not an X.509 certificate';
  }
  if (new Date(cert.validTo).getTime() < now.getTime() || new Date(cert.validFrom).getTime() > now.getTime())
    return `the signing certificate is not valid now (${cert.validFrom} – ${cert.validTo})`;
  let text: string;
  try {
    text = snsStringToSign(m);
  } catch (err) {
    return (err as Error).message;
  }
  try {
    return createVerify(algorithm).update(text, 'utf8').verify(cert.publicKey, m.Signature, 'base64')
      ? null
      : 'the signature does not verify';
  } catch {
    return 'the signature does not verify';
  }
}

/** Signs a message as SNS would (the sandbox, with its test key). */
export function signSnsMessage(
  m: Omit<SnsMessage, 'Signature' | 'SignatureVersion'>,
  privateKeyPem: string,
  version: '1' | '2',
): SnsMessage {
  const signature = createSign(ALGORITHMS[version]!).update(snsStringToSign(m), 'utf8').sign(privateKeyPem, 'base64');
  return { ...m, SignatureVersion: version, Signature: signature };
}
