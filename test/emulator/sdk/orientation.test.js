// The emulator reads pixels as stored and ignores EXIF, as the service does:
// a sideways or mirrored picture of the right person must fail, the same
// picture upright and rescaled or lightly cropped must pass, and resolutions
// outside 640x480..1920x1080 stay UnqualifiedPhoto.  The pictures are
// test/fixtures/photos/ (see test/fixtures/README.md).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startEmulator, stopAll, client, faceCompare, b64, pair, failure } = require('./helpers');

let main;
before(async () => { main = await startEmulator(); });
after(stopAll);

async function score(source, target, id) {
  const res = await faceCompare(client(main.port), { query: { MerchantBizId: id }, body: pair(source, target) });
  assert.equal(res.statusCode, 200);
  return res.body.Result;
}

test('a picture stored upright (Orientation 1) passes against the ID photo', async () => {
  const r = await score('person-a.jpg', 'photos/orient-1.jpg', 'o1');
  assert.equal(r.Passed, 'Y');
  assert.ok(r.FaceComparisonScore >= 90, `score ${r.FaceComparisonScore}`);
});

// orient-N.jpg is the upright picture stored mirrored (2), turned 180 (3),
// flipped (4), transposed (5), turned 90 (6 and 8) or transversed (7).
for (let o = 2; o <= 8; o++) {
  test(`the same picture as stored for EXIF Orientation ${o} fails: EXIF is ignored`, async () => {
    const r = await score('person-a.jpg', `photos/orient-${o}.jpg`, `o${o}`);
    assert.equal(r.Passed, 'N');
    assert.ok(r.FaceComparisonScore <= 50, `score ${r.FaceComparisonScore}`);
  });
}

test('a sideways picture passes against itself and fails against its 180-degree turn', async () => {
  // orient-8.jpg is orient-6.jpg turned by 180 degrees.
  assert.equal((await score('photos/orient-6.jpg', 'photos/orient-6.jpg', 'o66')).Passed, 'Y');
  assert.equal((await score('photos/orient-6.jpg', 'photos/orient-8.jpg', 'o68')).Passed, 'N');
});

test('the 12 MP selfie scaled but left sideways fails against the upright ID photo', async () => {
  const r = await score('person-a.jpg', 'photos/phone-sideways-960.jpg', 'side');
  assert.equal(r.Passed, 'N');
  assert.ok(r.FaceComparisonScore <= 50, `score ${r.FaceComparisonScore}`);
});

test('the 12 MP selfie made upright and scaled to 720x960 passes', async () => {
  const r = await score('person-a.jpg', 'photos/phone-upright-720.jpg', 'upright');
  assert.equal(r.Passed, 'Y');
  assert.ok(r.FaceComparisonScore >= 90, `score ${r.FaceComparisonScore}`);
});

test('other encodings of the upright picture pass (progressive, grey, CMYK, 16-bit RGBA PNG)', async () => {
  for (const f of ['progressive.jpg', 'grey.jpg', 'cmyk-adobe.jpg', 'rgba16.png']) {
    const r = await score('person-a.jpg', `photos/${f}`, 'enc');
    assert.equal(r.Passed, 'Y', f);
  }
});

test('the raw 12 MP selfie (3.9 MB) is ToolargeImage: the 1 MB limit is checked first', async () => {
  const err = await failure(faceCompare(client(main.port), {
    query: { MerchantBizId: 'raw12' }, body: pair('person-a.jpg', 'photos/phone-12mp-orient6.jpg'),
  }));
  assert.equal(err.code, 'ToolargeImage');
  assert.equal(err.status, 401);
});

for (const [f, why] of [['photos/bomb-30000.jpg', 'a header claiming 30000x30000'],
  ['photos/bomb-30000.png', 'a PNG header claiming 30000x30000'],
  ['photos/strip-1x10000.png', 'a 1x10000 strip']]) {
  test(`${why} is UnqualifiedPhoto`, async () => {
    const err = await failure(faceCompare(client(main.port), { query: { MerchantBizId: 'res' }, body: pair('person-a.jpg', f) }));
    assert.equal(err.code, 'UnqualifiedPhoto');
    assert.equal(err.status, 401);
  });
}

for (const f of ['rotated.heic', 'orient6.webp', 'unsupported.gif', 'unsupported.bmp', 'unsupported.tiff',
  'truncated.jpg', 'garbage-after-header.jpg']) {
  test(`${f} is UnqualifiedPhoto: the service takes only whole JPEG or PNG`, async () => {
    const err = await failure(faceCompare(client(main.port), {
      query: { MerchantBizId: 'fmt' }, body: { SourceFacePicture: b64('person-a.jpg'), TargetFacePicture: b64(`photos/${f}`) },
    }));
    assert.equal(err.code, 'UnqualifiedPhoto');
  });
}
