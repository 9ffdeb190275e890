// The SSRF suite: every trick that has made a server fetch what it should not, against the
// one guard every URL from outside goes through. A local listener counts connections, so a
// refusal is proven by nothing arriving, not by an error message alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  OutboundRefusedError,
  checkOutboundUrl,
  guardedLookup,
  hostMatches,
  isPublicAddress,
  outboundRequest,
  type OutboundPolicy,
} from './outbound.ts';

let listener: Server;
let port: number;
let connections = 0;
before(async () => {
  listener = createServer((_req, res) => res.end('reached'));
  listener.on('connection', () => connections++);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => listener.close(() => r())));

const SNS: OutboundPolicy = { purpose: 'SNS SubscribeURL', hosts: ['sns.*.amazonaws.com'] };
const refused = (url: string, policy: OutboundPolicy = SNS) =>
  assert.throws(() => checkOutboundUrl(url, policy), OutboundRefusedError, url);

test('every SubscribeURL variant that reached a loopback listener before is refused before any connection', async () => {
  const variants = [
    `http://127.0.0.1:${port}/`,
    `http://localhost:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://127.1:${port}/`,
    `http://127.0.0.1:${port}\\@sns.us-east-1.amazonaws.com/`,
    `https://127.0.0.1:${port}/`,
    `https://2130706433:${port}/`,
    `https://0177.0.0.1:${port}/`,
    `https://[::1]:${port}/`,
    `https://[::ffff:127.0.0.1]:${port}/`,
    `https://169.254.169.254/latest/meta-data/`,
    `https://metadata.google.internal/computeMetadata/v1/`,
    `https://sns.us-east-1.amazonaws.com@127.0.0.1:${port}/`,
    `https://user:pass@sns.us-east-1.amazonaws.com/`,
    `https://sns.us-east-1.amazonaws.com.evil.example/`,
    `https://evil.example/sns.us-east-1.amazonaws.com/`,
    `https://xsns.us-east-1.amazonaws.com/`,
    `https://sns.us-east-1.amazonaws.com./`,
    `https://sns.us-east-1.evil.amazonaws.com/`,
    `https://ѕns.us-east-1.amazonaws.com/`,
    `https://sns.us-east-1.amazonaws.com\t@127.0.0.1:${port}/`,
    `https://sns.us-east-1.amazonaws.com\n/`,
    `http://sns.us-east-1.amazonaws.com/`,
    `file:///etc/passwd`,
    `gopher://127.0.0.1:${port}/_GET`,
    `data:text/plain,hello`,
    `ftp://sns.us-east-1.amazonaws.com/`,
    `//sns.us-east-1.amazonaws.com/`,
    ``,
  ];
  for (const url of variants) refused(url);
  for (const url of variants.slice(0, 5)) await assert.rejects(outboundRequest(url, SNS), OutboundRefusedError, url);
  assert.equal(connections, 0, 'nothing reached the listener');
});

test('what the policy allows passes, normalised: case, an explicit port 443, an IDNA name matched as punycode', () => {
  assert.equal(
    checkOutboundUrl('https://SNS.US-EAST-1.AMAZONAWS.COM/?Action=ConfirmSubscription', SNS).hostname,
    'sns.us-east-1.amazonaws.com',
  );
  assert.equal(checkOutboundUrl('https://sns.eu-west-1.amazonaws.com:443/x', SNS).port, '');
  assert.ok(hostMatches('sns.us-east-1.amazonaws.com', 'sns.*.amazonaws.com'));
  assert.ok(!hostMatches('sns.a.b.amazonaws.com', 'sns.*.amazonaws.com'));
  assert.ok(hostMatches('offline-report-storage-us-east-1-prod.s3.amazonaws.com', '.amazonaws.com'));
  assert.ok(!hostMatches('amazonaws.com', '.amazonaws.com'));
  assert.ok(!hostMatches('evilamazonaws.com', '.amazonaws.com'));
  assert.ok(hostMatches('a.example.com', '*.example.com') && !hostMatches('a.b.example.com', '*.example.com'));
  const idn = checkOutboundUrl('https://bücher.example/', { purpose: 'webhook', hosts: null });
  assert.equal(idn.hostname, 'xn--bcher-kva.example');
  const paths: OutboundPolicy = { ...SNS, paths: [/^\/SimpleNotificationService-[0-9a-f]{32}\.pem$/] };
  refused('https://sns.us-east-1.amazonaws.com/evil.pem', paths);
  checkOutboundUrl(`https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${'a'.repeat(32)}.pem`, paths);
});

test('a trusted origin (the local sandbox) is reached as it is, and only that origin', async () => {
  const local: OutboundPolicy = { ...SNS, trustedOrigins: [`http://127.0.0.1:${port}`] };
  const res = await outboundRequest(`http://127.0.0.1:${port}/_sns/?Action=ConfirmSubscription`, local);
  assert.equal(await res.body.text(), 'reached');
  refused(`http://127.0.0.1:${port + 1}/`, local);
  refused(`http://localhost:${port}/`, local);
  refused(`http://user@127.0.0.1:${port}/`, local);
  // A trusted named host (a sandbox service name) exempts only its origin: another port of it is an
  // ordinary destination, refused when connecting because the name resolves to a private address.
  const before = connections;
  const named: OutboundPolicy = {
    purpose: 'webhook URL',
    hosts: null,
    trustedOrigins: [`http://sandbox.adsync.test:${port}`],
    resolve: ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
      cb(null, [{ address: '127.0.0.1', family: 4 }])) as never,
  };
  assert.equal(await (await outboundRequest(`http://sandbox.adsync.test:${port}/`, named)).body.text(), 'reached');
  const reached = connections;
  await assert.rejects(
    outboundRequest(`https://sandbox.adsync.test:${port + 1}/`, named),
    (err: unknown) => err instanceof OutboundRefusedError && /not a public address/.test(err.message),
  );
  assert.equal(connections, reached, 'the other port was never connected to');
  assert.ok(reached > before);
});

test('a public name that resolves to a private address is refused at connect time (DNS rebinding)', async () => {
  const before = connections;
  const cases: [string, string[]][] = [
    ['loopback', ['127.0.0.1']],
    ['private', ['10.1.2.3']],
    ['metadata', ['169.254.169.254']],
    ['carrier-grade NAT', ['100.64.0.1']],
    ['IPv6 loopback', ['::1']],
    ['IPv6 unique local', ['fd00::1']],
    ['IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['a public and a private address', ['93.184.216.34', '127.0.0.1']],
  ];
  for (const [what, addresses] of cases) {
    const resolve = ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
      cb(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      )) as never;
    const policy: OutboundPolicy = { purpose: 'webhook', hosts: null, resolve };
    await assert.rejects(
      outboundRequest(`https://hooks.example.com:${port}/deliver`, policy, { method: 'POST', body: '{}' }),
      (err: unknown) => err instanceof OutboundRefusedError && /not a public address/.test(err.message),
      what,
    );
  }
  assert.equal(connections, before, 'nothing reached the listener');
  // The resolver itself: all of a name's addresses must be public.
  const lookup = guardedLookup('test', ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
    cb(null, [{ address: '93.184.216.34', family: 4 }])) as never);
  await new Promise<void>((resolve, reject) =>
    lookup('example.com', { all: true }, (err, addresses) => {
      if (err) return reject(err);
      assert.deepEqual(addresses, [{ address: '93.184.216.34', family: 4 }]);
      resolve();
    }),
  );
});

test('public addresses are told from every reserved range', () => {
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.ok(isPublicAddress(a), a);
  for (const a of [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd12:3456::1',
    '::ffff:10.0.0.1',
    'not an address',
  ])
    assert.ok(!isPublicAddress(a), a);
});

test('a redirect is answered as it is, never followed', async () => {
  const redirecting = createServer((_req, res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` });
    res.end();
  });
  await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
  const before = connections;
  const res = await outboundRequest(`${origin}/start`, { purpose: 'test', hosts: null, trustedOrigins: [origin] });
  assert.equal(res.statusCode, 302);
  await res.body.dump();
  assert.equal(connections, before, 'the redirect target was never contacted');
  await new Promise<void>((r) => redirecting.close(() => r()));
});
