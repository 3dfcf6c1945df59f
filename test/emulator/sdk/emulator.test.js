// The emulator, exercised through the official Alibaba Cloud SDK core
// (@alicloud/openapi-client callApi, V3 signature, form body): if the SDK's
// calls get the answers the API page documents, the emulator behaves like the
// service for every client, not only for ours.  Each test name is the rule.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const {
  STS_TOKEN, EXPIRED_STS_TOKEN, startEmulator, stopAll, client, faceCompare, b64, pair, failure,
} = require('./helpers');

let main;
before(async () => { main = await startEmulator(); });
after(stopAll);

test('the same photo passes with a top score', async () => {
  const res = await faceCompare(client(main.port), { query: { MerchantBizId: 'sdk1' }, body: pair() });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.Code, 'Success');
  assert.equal(res.body.Message, 'success');
  assert.equal(res.body.Result.Passed, 'Y');
  assert.equal(typeof res.body.Result.FaceComparisonScore, 'number');
  assert.ok(res.body.Result.FaceComparisonScore >= 99);
  assert.match(res.body.Result.TransactionId, /^[0-9a-f]{32}$/);
  assert.match(res.body.RequestId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  assert.equal(res.body.Result.ExtFaceInfo, undefined, 'no ExtFaceInfo unless asked for');
});

for (const variant of ['person-a.png', 'person-a-scaled.jpg', 'person-a-cropped.jpg']) {
  test(`the same photo re-encoded, rescaled or cropped (${variant}) passes with a score of 90 or more`, async () => {
    const res = await faceCompare(client(main.port), { query: { MerchantBizId: 'sdk2' }, body: pair('person-a.jpg', variant) });
    assert.equal(res.body.Result.Passed, 'Y');
    assert.ok(res.body.Result.FaceComparisonScore >= 90, `score ${res.body.Result.FaceComparisonScore}`);
  });
}

test('a different person (another scene) fails with a score of 40 or less', async () => {
  const res = await faceCompare(client(main.port), { query: { MerchantBizId: 'sdk3' }, body: pair('person-a.jpg', 'person-b.jpg') });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.Result.Passed, 'N');
  assert.ok(res.body.Result.FaceComparisonScore <= 40, `score ${res.body.Result.FaceComparisonScore}`);
});

test('scores are deterministic: the same pair scores the same, in either order', async () => {
  const c = client(main.port);
  const ab = await faceCompare(c, { query: { MerchantBizId: 'sdk3a' }, body: pair('person-a.jpg', 'person-a-cropped.jpg') });
  const again = await faceCompare(c, { query: { MerchantBizId: 'sdk3b' }, body: pair('person-a.jpg', 'person-a-cropped.jpg') });
  const ba = await faceCompare(c, { query: { MerchantBizId: 'sdk3c' }, body: pair('person-a-cropped.jpg', 'person-a.jpg') });
  assert.equal(again.body.Result.FaceComparisonScore, ab.body.Result.FaceComparisonScore);
  assert.equal(ba.body.Result.FaceComparisonScore, ab.body.Result.FaceComparisonScore);
});

test('images given by URL (in the query) are downloaded and compared', async () => {
  const res = await faceCompare(client(main.port), {
    query: {
      MerchantBizId: 'sdk4',
      SourceFacePictureUrl: `${main.base}/static/person-a.jpg`,
      TargetFacePictureUrl: `${main.base}/static/person-a-scaled.jpg`,
    },
  });
  assert.equal(res.body.Result.Passed, 'Y');
});

test('a URL on one side and base64 on the other is fine', async () => {
  const res = await faceCompare(client(main.port), {
    query: { MerchantBizId: 'sdk4b', SourceFacePictureUrl: `${main.base}/static/person-b.jpg` },
    body: { TargetFacePicture: b64('person-a.jpg') },
  });
  assert.equal(res.body.Result.Passed, 'N');
});

test('FaceQualityCheck=Y (and the older FacePictureQualityCheck=Y) add a deterministic ExtFaceInfo', async () => {
  const c = client(main.port);
  const one = await faceCompare(c, { query: { MerchantBizId: 'sdk5', FaceQualityCheck: 'Y' }, body: pair() });
  const two = await faceCompare(c, { query: { MerchantBizId: 'sdk6', FacePictureQualityCheck: 'Y' }, body: pair() });
  const info = one.body.Result.ExtFaceInfo;
  for (const field of ['FaceQualityScore', 'IlluminationScore', 'OcclusionScore', 'KaOcclusionScore', 'SharpnessScore']) {
    assert.equal(typeof info[field], 'number', field);
    assert.ok(info[field] >= 0 && info[field] <= 100, field);
  }
  assert.deepEqual(two.body.Result.ExtFaceInfo, info);
  const no = await faceCompare(c, { query: { MerchantBizId: 'sdk7', FaceQualityCheck: 'N' }, body: pair() });
  assert.equal(no.body.Result.ExtFaceInfo, undefined);
});

// [rule, HTTP status, Code, call]; URLs named SLOW/MISSING/BIG point at the emulator itself.
const codeCases = [
  ['a flat (blank) image is NoFaceDetected', 401, 'NoFaceDetected',
    { query: { MerchantBizId: 'c1' }, body: pair('blank.png', 'person-a.jpg') }],
  ['a resolution below 640x480 is UnqualifiedPhoto', 401, 'UnqualifiedPhoto',
    { query: { MerchantBizId: 'c2' }, body: pair('person-a.jpg', 'tiny.jpg') }],
  ['bytes that are not a picture are UnqualifiedPhoto', 401, 'UnqualifiedPhoto',
    { query: { MerchantBizId: 'c3' }, body: pair('not-an-image.txt', 'person-a.jpg') }],
  ['base64 and URL for one side is DataDuplication', 401, 'DataDuplication',
    { query: { MerchantBizId: 'c4', SourceFacePictureUrl: 'http://127.0.0.1:9/a.jpg' }, body: pair() }],
  ['neither base64 nor URL for a side is MissingParameter', 400, 'MissingParameter',
    { query: { MerchantBizId: 'c5' }, body: { SourceFacePicture: b64('person-a.jpg') } }],
  ['no MerchantBizId is MissingParameter', 400, 'MissingParameter',
    { query: {}, body: pair() }],
  ['a MerchantBizId with a dash is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'order-1' }, body: pair() }],
  ['a MerchantBizId of 33 characters is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'a'.repeat(33) }, body: pair() }],
  ['a non-http URL is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c6', SourceFacePictureUrl: 'ftp://example.com/a.jpg' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['base64 that does not decode is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c7' }, body: { SourceFacePicture: 'not*base64', TargetFacePicture: b64('person-a.jpg') } }],
  ['base64 text over 1 MB is ToolargeImage', 401, 'ToolargeImage',
    { query: { MerchantBizId: 'c8' }, body: { SourceFacePicture: 'A'.repeat(1024 * 1024 + 4), TargetFacePicture: b64('person-a.jpg') } }],
  ['a URL slower than --download-timeout-ms is DownloadTimeout', 401, 'DownloadTimeout',
    { query: { MerchantBizId: 'c9', SourceFacePictureUrl: 'SLOW' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['a URL that answers 404 is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c10', SourceFacePictureUrl: 'MISSING' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['a URL nobody listens on is InvalidParameter', 400, 'InvalidParameter',
    { query: { MerchantBizId: 'c11', SourceFacePictureUrl: 'http://127.0.0.1:9/a.jpg' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
  ['a downloaded image over 1 MB is ToolargeImage', 401, 'ToolargeImage',
    { query: { MerchantBizId: 'c12', SourceFacePictureUrl: 'BIG' }, body: { TargetFacePicture: b64('person-a.jpg') } }],
];

let bigDir;
before(() => {
  // A 1.1 MB "JPEG" served from a scratch static directory.
  bigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-big-'));
  const big = Buffer.alloc(1100 * 1024, 0x41);
  big.set([0xff, 0xd8, 0xff, 0xe0]);
  fs.writeFileSync(path.join(bigDir, 'big.jpg'), big);
});

for (const [name, status, code, call] of codeCases) {
  test(name, async () => {
    const q = { ...call.query };
    if (q.SourceFacePictureUrl === 'SLOW') q.SourceFacePictureUrl = `${main.base}/static/person-a.jpg?delay_ms=2000`;
    if (q.SourceFacePictureUrl === 'MISSING') q.SourceFacePictureUrl = `${main.base}/static/no-such.jpg`;
    let port = main.port;
    if (q.SourceFacePictureUrl === 'BIG') {
      const withBig = await startEmulator([], { staticDir: bigDir });
      q.SourceFacePictureUrl = `${withBig.base}/static/big.jpg`;
      port = withBig.port;
    }
    const err = await failure(faceCompare(client(port), { query: q, body: call.body }));
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.match(err.data.RequestId, /^[0-9A-F-]{36}$/);
  });
}

test('a failed download names its reason (HTTP status 404)', async () => {
  const err = await failure(faceCompare(client(main.port), {
    query: { MerchantBizId: 'c13', SourceFacePictureUrl: `${main.base}/static/no-such.jpg` },
    body: { TargetFacePicture: b64('person-a.jpg') },
  }));
  assert.match(err.message, /SourceFacePictureUrl could not be downloaded: HTTP status 404/);
});

test('a wrong secret is SignatureDoesNotMatch (400), quoting the server string to sign', async () => {
  const err = await failure(faceCompare(client(main.port, { secret: 'wrong' }), { query: { MerchantBizId: 's1' }, body: pair() }));
  assert.equal(err.code, 'SignatureDoesNotMatch');
  assert.equal(err.status, 400);
  assert.match(err.message, /server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}/);
  assert.ok(err.data.HostId && err.data.Recommend, 'gateway errors carry HostId and Recommend');
});

const keyCases = [
  ['an unknown key is InvalidAccessKeyId.NotFound', 'nobody', 'x', 'InvalidAccessKeyId.NotFound', 404],
  ['a key configured inactive is InvalidAccessKeyId.Inactive', 'inactive-id', 'inactive-secret', 'InvalidAccessKeyId.Inactive', 400],
  ['a ram-denied key is Forbidden.RAMUserAccessDenied', 'denied-id', 'denied-secret', 'Forbidden.RAMUserAccessDenied', 403],
  ['an account-denied key is Forbidden.AccountAccessDenied', 'unpaid-id', 'unpaid-secret', 'Forbidden.AccountAccessDenied', 403],
];
for (const [name, id, secret, code, status] of keyCases) {
  test(name, async () => {
    const err = await failure(faceCompare(client(main.port, { id, secret }), { query: { MerchantBizId: 'k1' }, body: pair() }));
    assert.equal(err.code, code);
    assert.equal(err.status, status);
  });
}

test('ram-denied is answered only after the signature checks pass', async () => {
  const err = await failure(faceCompare(client(main.port, { id: 'denied-id', secret: 'wrong' }), { query: { MerchantBizId: 'k2' }, body: pair() }));
  assert.equal(err.code, 'SignatureDoesNotMatch');
});

test('STS: a configured --security-token is accepted', async () => {
  const res = await faceCompare(client(main.port, { token: STS_TOKEN }), { query: { MerchantBizId: 't1' }, body: pair() });
  assert.equal(res.body.Code, 'Success');
});

test('STS: an unknown token is InvalidSecurityToken.Malformed (400)', async () => {
  const err = await failure(faceCompare(client(main.port, { token: 'forged' }), { query: { MerchantBizId: 't2' }, body: pair() }));
  assert.equal(err.code, 'InvalidSecurityToken.Malformed');
  assert.equal(err.status, 400);
});

test('STS: an --expired-security-token is InvalidSecurityToken.Expired (400)', async () => {
  const err = await failure(faceCompare(client(main.port, { token: EXPIRED_STS_TOKEN }), { query: { MerchantBizId: 't3' }, body: pair() }));
  assert.equal(err.code, 'InvalidSecurityToken.Expired');
  assert.equal(err.status, 400);
});

// Magic MerchantBizIds: "EMU" + a table code without dots, any suffix.
const magicCases = [
  ['EMUInternalError42', 'InternalError', 500],
  ['EMUNoFaceDetected1', 'NoFaceDetected', 401],
  ['EMUThrottlingApi', 'Throttling.Api', 403],
  ['EMUForbiddenRAMUserAccessDenied', 'Forbidden.RAMUserAccessDenied', 403],
  ['EMUServiceUnavailable9', 'ServiceUnavailable', 503],
  ['EMUMissingParameter', 'MissingParameter', 400],
  ['EMUInvalidAccessKeyIdInactive', 'InvalidAccessKeyId.Inactive', 400],
];
for (const [id, code, status] of magicCases) {
  test(`the magic MerchantBizId ${id} is answered ${code} (${status})`, async () => {
    const err = await failure(faceCompare(client(main.port), { query: { MerchantBizId: id }, body: pair() }));
    assert.equal(err.code, code);
    assert.equal(err.status, status);
  });
}

test('a magic MerchantBizId is answered only after the signature checks pass', async () => {
  const err = await failure(faceCompare(client(main.port, { secret: 'wrong' }), { query: { MerchantBizId: 'EMUInternalError' }, body: pair() }));
  assert.equal(err.code, 'SignatureDoesNotMatch');
});

test('EMUScoreString gives the score as a JSON string, as the API page documents it', async () => {
  const res = await faceCompare(client(main.port), { query: { MerchantBizId: 'EMUScoreString1' }, body: pair() });
  assert.equal(res.body.Code, 'Success');
  assert.equal(typeof res.body.Result.FaceComparisonScore, 'string');
  assert.match(res.body.Result.FaceComparisonScore, /^\d{1,3}\.\d{2}$/);
});

test('EMUCodeTwoHundred answers success with Code "200", the SDK models\' alternative', async () => {
  const res = await faceCompare(client(main.port), { query: { MerchantBizId: 'EMUCodeTwoHundred' }, body: pair() });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.Code, '200');
  assert.equal(res.body.Result.Passed, 'Y');
});

test('more calls than --qps in one second are Throttling.Api (403); a second later they pass again', async () => {
  const limited = await startEmulator(['--qps', '2']);
  const c = client(limited.port);
  const call = { query: { MerchantBizId: 'q1' }, body: pair() };
  await faceCompare(c, call);
  await faceCompare(c, call);
  const err = await failure(faceCompare(c, call));
  assert.equal(err.code, 'Throttling.Api');
  assert.equal(err.status, 403);
  // Another key has its own budget.
  const other = await failure(faceCompare(client(limited.port, { id: 'denied-id', secret: 'denied-secret' }), call));
  assert.equal(other.code, 'Forbidden.RAMUserAccessDenied');
  await new Promise((r) => setTimeout(r, 1100));
  const res = await faceCompare(c, call);
  assert.equal(res.body.Code, 'Success');
});

test('--fail-rate 1 answers InternalError (500) to every otherwise valid call, and only to those', async () => {
  const failing = await startEmulator(['--fail-rate', '1']);
  const err = await failure(faceCompare(client(failing.port), { query: { MerchantBizId: 'f1' }, body: pair() }));
  assert.equal(err.code, 'InternalError');
  assert.equal(err.status, 500);
  const invalid = await failure(faceCompare(client(failing.port), { query: { MerchantBizId: 'f2' }, body: pair('blank.png') }));
  assert.equal(invalid.code, 'NoFaceDetected');
});

test('--fail-rate with --seed fails the same calls on every run', async () => {
  const outcomes = async () => {
    const e = await startEmulator(['--fail-rate', '0.5', '--seed', '7']);
    const seq = [];
    for (let i = 0; i < 12; i++) {
      try {
        await faceCompare(client(e.port), { query: { MerchantBizId: `seed${i}` }, body: pair() });
        seq.push('ok');
      } catch (err) {
        seq.push(err.code);
      }
    }
    return seq;
  };
  const first = await outcomes();
  assert.deepEqual(await outcomes(), first);
  assert.ok(first.includes('ok') && first.includes('InternalError'), first.join(','));
});
