// Running the emulator: readiness, TLS, concurrency, latency, static files,
// the request log, options and shutdown.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const {
  EMULATOR, KEY_SECRET, startEmulator, stopAll, client, faceCompare, pair, request, rawCall,
} = require('./helpers');

after(stopAll);

test('readiness: the port file holds the port and stdout says "listening on http://ADDR:PORT"', async () => {
  const e = await startEmulator();
  assert.match(e.banner(), new RegExp(`^facecompare-emulator listening on http://127\\.0\\.0\\.1:${e.port}\\n$`));
  const res = await request(e.port, { path: '/healthz' });
  assert.equal(res.status, 200);
  assert.equal(res.text.trim(), 'ok');
});

test('--help documents every option', () => {
  const help = execFileSync(EMULATOR, ['--help'], { encoding: 'utf8' });
  for (const option of ['--bind', '--port', '--port-file', '--tls-cert', '--tls-key', '--access-key-id',
    '--access-key-secret', '--key', '--security-token', '--expired-security-token', '--qps', '--latency-ms',
    '--fail-rate', '--seed', '--download-timeout-ms', '--static-dir', '--quiet', '--version', '--help']) {
    assert.ok(help.includes(option), option);
  }
});

test('--version prints the version facecompare.control gives, and nothing else', () => {
  const control = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'facecompare.control'), 'utf8');
  const version = control.match(/^default_version = '([^']+)'$/m)[1];
  const r = spawnSync(EMULATOR, ['--version'], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `facecompare-emulator ${version}\n`);
  assert.equal(r.stderr, '');
});

test('options that are not numbers or out of range are refused with status 2', () => {
  for (const args of [['--port', 'abc'], ['--qps', '-1'], ['--fail-rate', '1.5'], ['--latency-ms', '10x'],
    ['--key', 'no-secret'], ['--key', 'id:secret:bogus'], ['--bind', 'localhost:1'], ['stray']]) {
    const r = spawnSync(EMULATOR, args, { encoding: 'utf8', timeout: 5000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
});

test('--latency-ms delays answers without serializing concurrent clients', async () => {
  const slow = await startEmulator(['--latency-ms', '400']);
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    faceCompare(client(slow.port), { query: { MerchantBizId: `lat${i}` }, body: pair() })));
  const elapsed = Date.now() - started;
  for (const res of results) assert.equal(res.body.Code, 'Success');
  assert.ok(elapsed >= 400, `answered after ${elapsed} ms`);
  // Serialized, they would take 8 x 400 ms = 3.2 s.
  assert.ok(elapsed < 2400, `8 concurrent calls took ${elapsed} ms: they were serialized`);
});

test('SIGTERM stops the emulator at once, even with a request sleeping in --latency-ms', async () => {
  const slow = await startEmulator(['--latency-ms', '30000']);
  const pending = faceCompare(client(slow.port), { query: { MerchantBizId: 'stop1' }, body: pair() }).catch((e) => e);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const exited = new Promise((resolve) => slow.child.on('exit', (code, signal) => resolve({ code, signal })));
  slow.child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 2000, 'stopped promptly');
  assert.ok(await pending instanceof Error, 'the pending call failed');
});

test('static files: GET /static/NAME serves --static-dir; no path traversal; ?delay_ms delays', async () => {
  const e = await startEmulator();
  const ok = await request(e.port, { path: '/static/person-a.jpg' });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'image/jpeg');
  for (const p of ['/static/../emulator/Makefile', '/static/%2E%2E%2Femulator%2FMakefile', '/static/..%2F..%2Fsrc%2Fsign.c',
    '/static/', '/static/.', '/static/no-such.jpg']) {
    assert.equal((await request(e.port, { path: p })).status, 404, p);
  }
  const started = Date.now();
  const delayed = await request(e.port, { path: '/static/person-a.png?delay_ms=300' });
  assert.equal(delayed.status, 200);
  assert.ok(Date.now() - started >= 300);
});

test('the log: one line per request with time, address, method and path, MerchantBizId, status, Code, ms, User-Agent', async () => {
  const e = await startEmulator([], { quiet: false });
  await faceCompare(client(e.port), { query: { MerchantBizId: 'logme1' }, body: pair() });
  await faceCompare(client(e.port, { secret: 'wrong' }), { query: { MerchantBizId: 'logme2' }, body: pair() }).catch(() => {});
  await rawCall(e.port, { query: { MerchantBizId: 'evil\nforged line' } });
  await request(e.port, { path: '/healthz' });
  await rawCall(e.port, { query: { MerchantBizId: 'EMUFaultReset1' } }).catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  const lines = e.stderr().trim().split('\n');
  assert.equal(lines.length, 5, e.stderr());
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1:\d+ POST \/ MerchantBizId=logme1 200 Success \d+\.\dms UserAgent=\S+$/);
  assert.match(lines[1], / POST \/ MerchantBizId=logme2 400 SignatureDoesNotMatch /);
  assert.match(lines[2], / MerchantBizId=evil\?forged\?line 400 /, 'client text cannot forge log lines');
  assert.match(lines[3], / GET \/healthz MerchantBizId=- 200 - /);
  assert.match(lines[4], / POST \/ MerchantBizId=EMUFaultReset1 0 Reset /, 'a dropped connection is one line too');
  const log = e.stderr();
  for (const secret of [KEY_SECRET, 'ACS3-HMAC-SHA256', 'Signature=', pair().SourceFacePicture.slice(0, 40)]) {
    assert.ok(!log.includes(secret), `the log leaks ${secret}`);
  }
});

test('--quiet logs nothing', async () => {
  const e = await startEmulator([], { quiet: true });
  await faceCompare(client(e.port), { query: { MerchantBizId: 'quiet1' }, body: pair() });
  assert.equal(e.stderr(), '');
});

test('keep-alive: several calls reuse one connection', async () => {
  const e = await startEmulator([], { quiet: false });
  const c = client(e.port);
  for (let i = 0; i < 3; i++) await faceCompare(c, { query: { MerchantBizId: `ka${i}` }, body: pair() });
  await new Promise((r) => setTimeout(r, 100));
  const ports = new Set(e.stderr().trim().split('\n').map((l) => l.split(' ')[1]));
  assert.equal(ports.size, 1, e.stderr());
});

test('TLS: --tls-cert/--tls-key serve HTTPS, and the SDK calls it with protocol https', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (made.status !== 0) {
    t.skip('openssl is not available to make a certificate');
    return;
  }
  const e = await startEmulator([], { tls: { cert, key } });
  assert.match(e.banner(), /listening on https:\/\/127\.0\.0\.1:/);
  const ca = fs.readFileSync(cert, 'utf8');
  const res = await faceCompare(client(e.port, { protocol: 'https', ca }), { query: { MerchantBizId: 'tls1' }, body: pair() });
  assert.equal(res.body.Code, 'Success');
  const health = await request(e.port, { path: '/healthz', tls: true, ca });
  assert.equal(health.status, 200);
});

test('--bind ::1 listens on IPv6 loopback', async (t) => {
  const r = spawnSync('sh', ['-c', 'test -e /proc/net/if_inet6 && grep -q "00000000000000000000000000000001" /proc/net/if_inet6']);
  if (r.status !== 0) {
    t.skip('no IPv6 loopback here');
    return;
  }
  const e = await startEmulator(['--bind', '::1']);
  assert.match(e.banner(), /listening on http:\/\/\[::1\]:\d+/);
  const res = await new Promise((resolve, reject) => {
    require('node:http').get({ host: '::1', port: e.port, path: '/healthz' }, (r2) => resolve(r2.statusCode)).on('error', reject);
  });
  assert.equal(res, 200);
});
