// The emulator, exercised through the official Alibaba Cloud SDK core
// (@alicloud/openapi-client): if the SDK's V3-signed calls get the answers
// the API page documents, the emulator behaves like the service for every
// client, not only for ours.  A tiny independent signer covers what the SDK
// never does on purpose (reuse a nonce, send a stale date).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const OpenApi = require('@alicloud/openapi-client');
const Util = require('@alicloud/tea-util');

const EMULATOR = path.resolve(__dirname, '..', 'facecompare-emulator');
const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');
const KEY_ID = 'sdk-key-id';
const KEY_SECRET = 'sdk-key-secret';
const STS_TOKEN = 'sdk-sts-token';

const emulators = [];

// Start an emulator on a free port; resolves to its base URL.
async function startEmulator(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-emulator-'));
  const portFile = path.join(dir, 'port');
  const child = spawn(EMULATOR, [
    '--port', '0', '--port-file', portFile, '--quiet',
    '--access-key-id', KEY_ID, '--access-key-secret', KEY_SECRET,
    '--key', 'denied-id:denied-secret:ram-denied',
    '--key', 'unpaid-id:unpaid-secret:account-denied',
    '--key', 'inactive-id:inactive-secret:inactive',
    '--security-token', STS_TOKEN,
    '--static-dir', FIXTURES, '--download-timeout-ms', '800',
    ...extraArgs,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  emulators.push(child);
  for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(fs.readFileSync(portFile, 'utf8').trim());
  return { port, base: `http://127.0.0.1:${port}` };
}

function client(port, { id = KEY_ID, secret = KEY_SECRET, token } = {}) {
  return new OpenApi.default(new OpenApi.Config({
    accessKeyId: id, accessKeySecret: secret, securityToken: token,
    endpoint: `127.0.0.1:${port}`, protocol: 'http',
  }));
}

const PARAMS = new OpenApi.Params({
  action: 'FaceCompare', version: '2022-08-09', protocol: 'HTTP', pathname: '/',
  method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
});

// Call FaceCompare as the SDK would: URLs and the id in the query, pictures
// as base64 in the form body.
async function faceCompare(c, { query = {}, body = {} }) {
  const request = new OpenApi.OpenApiRequest({ query, body });
  return c.callApi(PARAMS, request, new Util.RuntimeOptions({ autoretry: false }));
}

const b64 = (name) => fs.readFileSync(path.join(FIXTURES, name)).toString('base64');

// The SDK throws for non-2xx answers: return its code and status instead.
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return { code: err.code, status: err.statusCode ?? err.data?.statusCode, message: err.message };
  }
  assert.fail('the call succeeded but should have failed');
}

let main;
before(async () => { main = await startEmulator(); });
after(() => { for (const child of emulators) child.kill('SIGTERM'); });

test('the same photo passes with a top score', async () => {
  const res = await faceCompare(client(main.port), {
    query: { MerchantBizId: 'sdk1' },
    body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.Code, 'Success');
  assert.equal(res.body.Result.Passed, 'Y');
  assert.ok(res.body.Result.FaceComparisonScore >= 99);
  assert.match(res.body.Result.TransactionId, /^[0-9a-f]{32}$/);
  assert.match(res.body.RequestId, /^[0-9A-F]{8}-[0-9A-F]{4}-/);
});

for (const variant of ['person-a.png', 'person-a-scaled.jpg', 'person-a-cropped.jpg']) {
  test(`the same photo ${variant} (re-encoded, rescaled or cropped) passes`, async () => {
    const res = await faceCompare(client(main.port), {
      query: { MerchantBizId: 'sdk2' },
      body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64(variant) },
    });
    assert.equal(res.body.Result.Passed, 'Y');
    assert.ok(res.body.Result.FaceComparisonScore >= 90);
  });
}

test('a different person fails with a low score', async () => {
  const res = await faceCompare(client(main.port), {
    query: { MerchantBizId: 'sdk3' },
    body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-b.jpg') },
  });
  assert.equal(res.body.Result.Passed, 'N');
  assert.ok(res.body.Result.FaceComparisonScore <= 40);
});

test('images given by URL are downloaded by the service', async () => {
  const res = await faceCompare(client(main.port), {
    query: {
      MerchantBizId: 'sdk4',
      SourceFacePictureUrl: `${main.base}/static/person-a.jpg`,
      TargetFacePictureUrl: `${main.base}/static/person-a-scaled.jpg`,
    },
  });
  assert.equal(res.body.Result.Passed, 'Y');
});

test('FaceQualityCheck=Y adds ExtFaceInfo', async () => {
  const res = await faceCompare(client(main.port), {
    query: { MerchantBizId: 'sdk5', FaceQualityCheck: 'Y' },
    body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
  });
  assert.equal(typeof res.body.Result.ExtFaceInfo.FaceQualityScore, 'number');
});

const codeCases = [
  ['a flat image is NoFaceDetected', 401, 'NoFaceDetected',
    { query: { MerchantBizId: 'c1' }, body: { SourceFacePicture: b64('blank.png'), TargetFacePicture: b64('person-a.jpg') } }],
  ['a resolution below 640x480 is UnqualifiedPhoto', 401, 'UnqualifiedPhoto',
    { query: { MerchantBizId: 'c2' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('tiny.jpg') } }],
  ['bytes that are not a picture are UnqualifiedPhoto', 401, 'UnqualifiedPhoto',
    { query: { MerchantBizId: 'c3' }, body: { SourceFacePicture: b64('not-an-image.txt'), TargetFacePicture: b64('person-a.jpg') } }],
  ['base64 and URL for one side is DataDuplication', 401, 'DataDuplication',
    { query: { MerchantBizId: 'c4', SourceFacePictureUrl: 'http://127.0.0.1:9/a.jpg' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') } }],
  ['neither form for a side is MissingParameter', 400, 'MissingParameter',
    { query: { MerchantBizId: 'c5' }, body: { SourceFacePicture: b64('person-a.jpg') } }],
  ['no MerchantBizId is MissingParameter', 400, 'MissingParameter',
    { query: {}, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') } }],
  ['a MerchantBizId with a dash is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'order-1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') } }],
  ['a non-http URL is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c6', SourceFacePictureUrl: 'ftp://example.com/a.jpg' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['invalid base64 is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c7' }, body: { SourceFacePicture: 'not*base64', TargetFacePicture: b64('person-a.jpg') } }],
  ['base64 over 1 MB is ToolargeImage', 401, 'ToolargeImage',
    { query: { MerchantBizId: 'c8' }, body: { SourceFacePicture: 'A'.repeat(1024 * 1024 + 4), TargetFacePicture: b64('person-a.jpg') } }],
  ['a URL slower than the download timeout is DownloadTimeout', 401, 'DownloadTimeout',
    { query: { MerchantBizId: 'c9', SourceFacePictureUrl: 'SLOW' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['a URL that answers 404 is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c10', SourceFacePictureUrl: 'MISSING' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
];

for (const [name, status, code, call] of codeCases) {
  test(name, async () => {
    const q = { ...call.query };
    if (q.SourceFacePictureUrl === 'SLOW') q.SourceFacePictureUrl = `${main.base}/static/person-a.jpg?delay_ms=2000`;
    if (q.SourceFacePictureUrl === 'MISSING') q.SourceFacePictureUrl = `${main.base}/static/no-such.jpg`;
    const err = await failure(faceCompare(client(main.port), { query: q, body: call.body }));
    assert.equal(err.code, code);
    assert.equal(err.status, status);
  });
}

test('a wrong secret is SignatureDoesNotMatch, quoting the server string to sign', async () => {
  const err = await failure(faceCompare(client(main.port, { secret: 'wrong' }), {
    query: { MerchantBizId: 's1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
  }));
  assert.equal(err.code, 'SignatureDoesNotMatch');
  assert.equal(err.status, 400);
  assert.match(err.message, /server string to sign is:ACS3-HMAC-SHA256/);
});

const keyCases = [
  ['an unknown key is InvalidAccessKeyId.NotFound', 'nobody', 'x', 'InvalidAccessKeyId.NotFound', 404],
  ['a disabled key is InvalidAccessKeyId.Inactive', 'inactive-id', 'inactive-secret', 'InvalidAccessKeyId.Inactive', 400],
  ['a RAM user without the policy is Forbidden.RAMUserAccessDenied', 'denied-id', 'denied-secret', 'Forbidden.RAMUserAccessDenied', 403],
  ['an account in arrears is Forbidden.AccountAccessDenied', 'unpaid-id', 'unpaid-secret', 'Forbidden.AccountAccessDenied', 403],
];
for (const [name, id, secret, code, status] of keyCases) {
  test(name, async () => {
    const err = await failure(faceCompare(client(main.port, { id, secret }), {
      query: { MerchantBizId: 'k1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
    }));
    assert.equal(err.code, code);
    assert.equal(err.status, status);
  });
}

test('STS: a configured token is accepted, another is InvalidSecurityToken.Malformed', async () => {
  const call = { query: { MerchantBizId: 't1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') } };
  const res = await faceCompare(client(main.port, { token: STS_TOKEN }), call);
  assert.equal(res.body.Code, 'Success');
  const err = await failure(faceCompare(client(main.port, { token: 'forged' }), call));
  assert.equal(err.code, 'InvalidSecurityToken.Malformed');
});

test('test ids force any code: EMUInternalError is a 500 InternalError', async () => {
  const err = await failure(faceCompare(client(main.port), {
    query: { MerchantBizId: 'EMUInternalError7' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
  }));
  assert.equal(err.code, 'InternalError');
  assert.equal(err.status, 500);
});

test('more calls than --qps in a second are Throttling.Api (403)', async () => {
  const limited = await startEmulator(['--qps', '2']);
  const call = { query: { MerchantBizId: 'q1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') } };
  const c = client(limited.port);
  await faceCompare(c, call);
  await faceCompare(c, call);
  const err = await failure(faceCompare(c, call));
  assert.equal(err.code, 'Throttling.Api');
  assert.equal(err.status, 403);
});

test('--fail-rate 1 answers InternalError to valid calls', async () => {
  const failing = await startEmulator(['--fail-rate', '1']);
  const err = await failure(faceCompare(client(failing.port), {
    query: { MerchantBizId: 'f1' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64('person-a.jpg') },
  }));
  assert.equal(err.code, 'InternalError');
  assert.equal(err.status, 500);
});

// An independent V3 signer (node's crypto only), for requests the SDK would never send.
function signedPost(port, { nonce, date, secret = KEY_SECRET }) {
  const body = `SourceFacePicture=${encodeURIComponent(b64('person-a.jpg'))}&TargetFacePicture=${encodeURIComponent(b64('person-a.jpg'))}`;
  const query = 'MerchantBizId=raw1';
  const hash = crypto.createHash('sha256').update(body).digest('hex');
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    host: `127.0.0.1:${port}`,
    'x-acs-action': 'FaceCompare',
    'x-acs-content-sha256': hash,
    'x-acs-date': date,
    'x-acs-signature-nonce': nonce,
    'x-acs-version': '2022-08-09',
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', query, ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), hash].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${crypto.createHash('sha256').update(canonical).digest('hex')}`;
  const signature = crypto.createHmac('sha256', secret).update(toSign).digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${KEY_ID},SignedHeaders=${names.join(';')},Signature=${signature}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/?${query}`, headers }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const isoNow = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('an independent signer is accepted; reusing its nonce is SignatureNonceUsed', async () => {
  const nonce = crypto.randomBytes(16).toString('hex');
  const first = await signedPost(main.port, { nonce, date: isoNow() });
  assert.equal(first.status, 200);
  assert.equal(first.body.Code, 'Success');
  const again = await signedPost(main.port, { nonce, date: isoNow() });
  assert.equal(again.status, 400);
  assert.equal(again.body.Code, 'SignatureNonceUsed');
});

test('an x-acs-date 20 minutes off is InvalidTimeStamp.Expired', async () => {
  const res = await signedPost(main.port, { nonce: crypto.randomBytes(16).toString('hex'), date: isoNow(-20 * 60 * 1000) });
  assert.equal(res.status, 400);
  assert.equal(res.body.Code, 'InvalidTimeStamp.Expired');
  assert.ok(res.body.HostId && res.body.Recommend, 'gateway errors carry HostId and Recommend');
});

test('a malformed x-acs-date is InvalidTimeStamp.Format', async () => {
  const res = await signedPost(main.port, { nonce: crypto.randomBytes(16).toString('hex'), date: 'yesterday' });
  assert.equal(res.body.Code, 'InvalidTimeStamp.Format');
});
