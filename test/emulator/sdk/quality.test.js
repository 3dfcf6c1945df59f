// Result.ExtFaceInfo (FaceQualityCheck=Y) and the older SDKs' placement of
// the pictures in the query string, through the official SDK core.  The
// scores are checked against the measures test/emulator/README.md
// documents, on pictures built here with known luminance.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');

const { startEmulator, stopAll, client, faceCompare, b64, pair, failure, rawCall } = require('./helpers');

let main;
before(async () => { main = await startEmulator(); });
after(stopAll);

const SCORES = ['FaceQualityScore', 'IlluminationScore', 'OcclusionScore', 'KaOcclusionScore', 'SharpnessScore'];

// A grayscale PNG, width x height, pixel (x, y) = shade(x, y).
function png(width, height, shade) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = shade(x, y);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const W = 640;
const H = 480;
// A fine checkerboard around mid-grey: mean 128, every neighbour 56 apart.
const checker = (x, y) => ((x + y) % 2 ? 156 : 100);
const inKeyArea = (x, y) => x >= 0.25 * W && x < 0.75 * W && y >= 0.3 * H && y < 0.75 * H;

async function qualityOf(picture, id) {
  const res = await faceCompare(client(main.port), {
    query: { MerchantBizId: id, FaceQualityCheck: 'Y' },
    body: { SourceFacePicture: picture.toString('base64'), TargetFacePicture: b64('person-a.jpg') },
  });
  assert.equal(res.statusCode, 200);
  return res.body.Result.ExtFaceInfo;
}

test('ExtFaceInfo has the five scores of the SDK model, numbers from 0 to 100 with two decimals', async () => {
  const info = await qualityOf(Buffer.from(b64('person-a.jpg'), 'base64'), 'q1');
  assert.deepEqual(Object.keys(info).sort(), [...SCORES].sort());
  for (const field of SCORES) {
    assert.equal(typeof info[field], 'number', field);
    assert.ok(info[field] >= 0 && info[field] <= 100, `${field} ${info[field]}`);
    assert.equal(Math.round(info[field] * 100) / 100, info[field], `${field} has at most two decimals`);
  }
});

test('the scores describe the source picture alone, the same every time', async () => {
  const c = client(main.port);
  const ask = (target, id) => faceCompare(c, { query: { MerchantBizId: id, FaceQualityCheck: 'Y' }, body: pair('person-a.jpg', target) });
  const one = await ask('person-a.jpg', 'q2');
  const two = await ask('person-b.jpg', 'q3');
  assert.deepEqual(two.body.Result.ExtFaceInfo, one.body.Result.ExtFaceInfo);
  const other = await faceCompare(c, { query: { MerchantBizId: 'q4', FaceQualityCheck: 'Y' }, body: pair('person-b.jpg') });
  assert.notDeepEqual(other.body.Result.ExtFaceInfo, one.body.Result.ExtFaceInfo);
});

test('only FaceQualityCheck=Y asks for them: N, other values or no flag answer without ExtFaceInfo', async () => {
  const c = client(main.port);
  for (const [id, query] of [['q5', { FaceQualityCheck: 'N' }], ['q6', { FaceQualityCheck: 'yes' }], ['q7', {}]]) {
    const res = await faceCompare(c, { query: { MerchantBizId: id, ...query }, body: pair() });
    assert.equal(res.body.Result.ExtFaceInfo, undefined, JSON.stringify(query));
  }
});

test('a sharp, mid-grey, uncovered picture scores 100 on every measure', async () => {
  const info = await qualityOf(png(W, H, checker), 'q8');
  assert.deepEqual(info, {
    FaceQualityScore: 100, IlluminationScore: 100, OcclusionScore: 100, KaOcclusionScore: 100, SharpnessScore: 100,
  });
});

test('IlluminationScore follows the mean brightness: 100 - 100 * |mean - 128| / 128', async () => {
  // Mean 32: 100 - 100 * 96 / 128 = 25.
  const info = await qualityOf(png(W, H, (x, y) => ((x + y) % 2 ? 60 : 4)), 'q9');
  assert.equal(info.IlluminationScore, 25);
});

test('SharpnessScore follows the edge energy E: 100 * (1 - exp(-E / 3))', async () => {
  // Two-pixel stripes across: half the horizontal neighbours differ by 56, no vertical ones.
  const stripes = (x) => (Math.floor(x / 2) % 2 ? 156 : 100);
  const info = await qualityOf(png(W, H, stripes), 'q10');
  const e = (56 * (W / 2 - 1 + 0) * H) / ((W - 1) * H + W * (H - 1));
  assert.equal(info.SharpnessScore, Math.round(100 * (1 - Math.exp(-e / 3)) * 100) / 100);
  assert.ok(info.SharpnessScore < 100);
});

test('a flat patch over the eyes, nose and mouth lowers KaOcclusionScore to 0 and OcclusionScore with it', async () => {
  const covered = await qualityOf(png(W, H, (x, y) => (inKeyArea(x, y) ? 128 : checker(x, y))), 'q11');
  assert.equal(covered.KaOcclusionScore, 0);
  assert.ok(covered.OcclusionScore > 0 && covered.OcclusionScore < 100, `OcclusionScore ${covered.OcclusionScore}`);
  assert.equal(covered.FaceQualityScore, Math.round((0.4 * covered.SharpnessScore + 0.3 * covered.IlluminationScore
    + 0.15 * covered.OcclusionScore + 0.15 * covered.KaOcclusionScore) * 100) / 100);
});

test('pictures in the query string, as older SDKs sent them, get the verdict they get in the body', async () => {
  const c = client(main.port);
  const inBody = await faceCompare(c, { query: { MerchantBizId: 'q12' }, body: pair('person-b.jpg', 'person-a.jpg') });
  const inQuery = await faceCompare(c, { query: { MerchantBizId: 'q13', ...pair('person-b.jpg', 'person-a.jpg') }, body: {} });
  assert.equal(inQuery.statusCode, 200);
  assert.equal(inQuery.body.Result.Passed, inBody.body.Result.Passed);
  assert.equal(inQuery.body.Result.FaceComparisonScore, inBody.body.Result.FaceComparisonScore);
  const mixed = await faceCompare(c, {
    query: { MerchantBizId: 'q14', SourceFacePicture: b64('person-a.jpg'), FaceQualityCheck: 'Y' },
    body: { TargetFacePicture: b64('person-a.png') },
  });
  assert.equal(mixed.body.Result.Passed, 'Y');
  assert.equal(typeof mixed.body.Result.ExtFaceInfo.SharpnessScore, 'number', 'a query picture gets its scores too');
});

test('a picture in the query is covered by the signature: changed on the way, SignatureDoesNotMatch', async () => {
  const query = { MerchantBizId: 'q15', ...pair() };
  const signed = await rawCall(main.port, { query, body: '' });
  assert.equal(signed.status, 200, signed.text);
  const canonical = Object.keys(query).sort().map((k) => `${k}=${encodeURIComponent(query[k])}`).join('&');
  const tampered = canonical.replace('TargetFacePicture=%2F9j%2F', 'TargetFacePicture=%2F9j%2B');
  assert.notEqual(tampered, canonical);
  const res = await rawCall(main.port, { query, body: '', sentQuery: tampered });
  assert.equal(res.status, 400);
  assert.equal(res.body.Code, 'SignatureDoesNotMatch');
});

test('a query picture that is not base64 is InvalidParameter, as in the body', async () => {
  const err = await failure(faceCompare(client(main.port), {
    query: { MerchantBizId: 'q16', SourceFacePicture: 'not base64!', TargetFacePicture: b64('person-a.jpg') }, body: {},
  }));
  assert.equal(err.code, 'InvalidParameter');
});
