// Shared by the test files: start emulators, call them through the official
// SDK core, and sign raw requests with an independent V3 signer.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

const OpenApi = require('@alicloud/openapi-client');
const Util = require('@alicloud/tea-util');

const EMULATOR = path.resolve(__dirname, '..', 'facecompare-emulator');
const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');
const KEY_ID = 'sdk-key-id';
const KEY_SECRET = 'sdk-key-secret';
const STS_TOKEN = 'sdk-sts-token';
const EXPIRED_STS_TOKEN = 'sdk-expired-sts-token';

const children = [];

// Start an emulator on a free port (--port 0 --port-file) and wait until it
// listens.  Resolves to { port, base, child, stderr() }.
async function startEmulator(extraArgs = [], { quiet = true, staticDir = FIXTURES, tls } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-emulator-'));
  const portFile = path.join(dir, 'port');
  const args = [
    '--port', '0', '--port-file', portFile,
    '--access-key-id', KEY_ID, '--access-key-secret', KEY_SECRET,
    '--key', 'denied-id:denied-secret:ram-denied',
    '--key', 'unpaid-id:unpaid-secret:account-denied',
    '--key', 'inactive-id:inactive-secret:inactive',
    '--security-token', STS_TOKEN, '--expired-security-token', EXPIRED_STS_TOKEN,
    '--static-dir', staticDir, '--download-timeout-ms', '800',
    ...(quiet ? ['--quiet'] : []),
    ...(tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : []),
    ...extraArgs,
  ];
  // EMULATOR_WRAPPER (e.g. "valgrind --leak-check=full") runs the emulator under a tool.
  const wrapper = (process.env.EMULATOR_WRAPPER || '').split(' ').filter(Boolean);
  const child = spawn(wrapper[0] ?? EMULATOR, [...wrapper.slice(1), ...(wrapper.length ? [EMULATOR] : []), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  children.push(child);
  // Readiness: the port file exists and the banner has been printed.
  for (let i = 0; i < 800 && !(fs.existsSync(portFile) && stdout.includes('listening on')); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(fs.existsSync(portFile), `the emulator did not start: ${stderr}`);
  const port = Number(fs.readFileSync(portFile, 'utf8').trim());
  const scheme = tls ? 'https' : 'http';
  return { port, base: `${scheme}://127.0.0.1:${port}`, child, banner: () => stdout, stderr: () => stderr };
}

function stopAll() {
  for (const child of children) child.kill('SIGTERM');
}

function client(port, { id = KEY_ID, secret = KEY_SECRET, token, protocol = 'http', ca } = {}) {
  return new OpenApi.default(new OpenApi.Config({
    accessKeyId: id, accessKeySecret: secret, securityToken: token,
    endpoint: `127.0.0.1:${port}`, protocol, ca,
  }));
}

// FaceCompare as the SDK core sends it: RPC style, V3 signature
// (ACS3-HMAC-SHA256, the default of callApi), form body.
const PARAMS = new OpenApi.Params({
  action: 'FaceCompare', version: '2022-08-09', protocol: 'HTTP', pathname: '/',
  method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
});

// The MerchantBizId and URLs in the query, base64 pictures in the form body.
async function faceCompare(c, { query = {}, body = {} }) {
  const request = new OpenApi.OpenApiRequest({ query, body });
  return c.callApi(PARAMS, request, new Util.RuntimeOptions({ autoretry: false }));
}

const b64 = (name) => fs.readFileSync(path.join(FIXTURES, name)).toString('base64');
const pair = (a = 'person-a.jpg', b = 'person-a.jpg') => ({ SourceFacePicture: b64(a), TargetFacePicture: b64(b) });

// The SDK throws for non-2xx answers: return its code and status instead.
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return { code: err.code, status: err.statusCode ?? err.data?.statusCode, message: err.message, data: err.data };
  }
  return assert.fail('the call succeeded but should have failed');
}

const isoNow = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
const nonce = () => crypto.randomBytes(16).toString('hex');
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// An independent V3 signer (node's crypto only), for requests the SDK never
// sends: a reused nonce, a stale date, a wrong body hash, unsigned headers.
// Options change one thing each; returns { status, body }.
function rawCall(port, {
  query = { MerchantBizId: 'raw1' }, body = null, date = isoNow(), nonceValue = nonce(),
  secret = KEY_SECRET, keyId = KEY_ID, action = 'FaceCompare', version = '2022-08-09',
  bodyHash, extraSigned = {}, extraUnsigned = {}, authorization, sentQuery,
} = {}) {
  const payload = body ?? Object.entries(pair()).map(([k, v]) => `${k}=${rfc3986(v)}`).join('&');
  const canonicalQuery = Object.keys(query).sort().map((k) => `${rfc3986(k)}=${rfc3986(query[k])}`).join('&');
  const hash = bodyHash ?? crypto.createHash('sha256').update(payload).digest('hex');
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    host: `127.0.0.1:${port}`,
    'x-acs-action': action,
    'x-acs-content-sha256': hash,
    'x-acs-date': date,
    'x-acs-signature-nonce': nonceValue,
    'x-acs-version': version,
    ...extraSigned,
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', canonicalQuery, ...names.map((n) => `${n}:${headers[n]}`), '',
    names.join(';'), hash].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${crypto.createHash('sha256').update(canonical).digest('hex')}`;
  const signature = crypto.createHmac('sha256', secret).update(toSign).digest('hex');
  const sent = { ...headers, ...extraUnsigned };
  sent.authorization = authorization
    ?? `ACS3-HMAC-SHA256 Credential=${keyId},SignedHeaders=${names.join(';')},Signature=${signature}`;
  if (sent.authorization === '') delete sent.authorization;
  // sentQuery: the query as put on the wire, when it differs from the canonical one.
  return request(port, { method: 'POST', path: `/?${sentQuery ?? canonicalQuery}`, headers: sent, body: payload });
}

// A plain HTTP exchange; the body is parsed as JSON when it is JSON.
function request(port, { method = 'GET', path: p = '/', headers = {}, body, tls = false, ca } = {}) {
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request({ host: '127.0.0.1', port, method, path: p, headers, ca }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, body: json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

module.exports = {
  EMULATOR, FIXTURES, KEY_ID, KEY_SECRET, STS_TOKEN, EXPIRED_STS_TOKEN,
  startEmulator, stopAll, client, faceCompare, b64, pair, failure, isoNow, nonce, rawCall, request,
};
