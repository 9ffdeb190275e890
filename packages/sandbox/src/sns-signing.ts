/**
 * How the sandbox signs as SNS: a self-signed test key and certificate made for this
 * repository (sns-test-certificate/), published at the SigningCertURL SNS would use
 * (`/SimpleNotificationService-<id>.pem` on the sandbox's origin). A verifier trusts it
 * only where the local stack trusts the sandbox's origin (OUTBOUND_TRUSTED_ORIGINS).
 * Never the key of anything real.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signSnsMessage, type SnsMessage } from '@adsync/shared/streams/sns-signature';

const KEY = readFileSync(new URL('./sns-test-certificate/key.pem', import.meta.url), 'utf8');
export const SNS_TEST_CERT = readFileSync(new URL('./sns-test-certificate/cert.pem', import.meta.url), 'utf8');
/** The certificate's file name, as SNS names its own: SimpleNotificationService-<32 hex>.pem. */
export const SNS_CERT_FILE = `SimpleNotificationService-${createHash('md5').update(SNS_TEST_CERT).digest('hex')}.pem`;

/** An SNS message signed by the test key, naming the certificate on `origin`. */
export function signAsSns(
  m: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
  origin: string,
  version: '1' | '2',
): SnsMessage {
  return signSnsMessage({ ...m, SigningCertURL: `${origin}/${SNS_CERT_FILE}` }, KEY, version);
}
