// The gateway's checks, driven by a tiny independent V3 signer written with
// node's crypto (helpers.rawCall): requests the official SDK never sends on
// purpose.  Each test changes one thing of an otherwise valid request.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { KEY_ID, STS_TOKEN, startEmulator, stopAll, isoNow, nonce, rawCall, request } = require('./helpers');

let main;
before(async () => { main = await startEmulator(); });
after(stopAll);

// A gateway error: its status, Code and the gateway's JSON shape.
function assertGatewayError(res, status, code) {
  assert.equal(res.body?.Code, code, res.text);
  assert.equal(res.status, status);
  for (const field of ['RequestId', 'HostId', 'Message', 'Recommend']) assert.ok(res.body[field], field);
}

test('the independent signer is accepted (the emulator checks V3 as the SDK signs it)', async () => {
  const res = await rawCall(main.port);
  assert.equal(res.status, 200);
  assert.equal(res.body.Code, 'Success');
});

test('a reused x-acs-signature-nonce is SignatureNonceUsed (400)', async () => {
  const n = nonce();
  assert.equal((await rawCall(main.port, { nonceValue: n })).status, 200);
  assertGatewayError(await rawCall(main.port, { nonceValue: n }), 400, 'SignatureNonceUsed');
});

test('an x-acs-date 20 minutes old is InvalidTimeStamp.Expired (400)', async () => {
  assertGatewayError(await rawCall(main.port, { date: isoNow(-20 * 60 * 1000) }), 400, 'InvalidTimeStamp.Expired');
});

test('an x-acs-date 20 minutes ahead is InvalidTimeStamp.Expired; 10 minutes is fine', async () => {
  assertGatewayError(await rawCall(main.port, { date: isoNow(20 * 60 * 1000) }), 400, 'InvalidTimeStamp.Expired');
  assert.equal((await rawCall(main.port, { date: isoNow(10 * 60 * 1000) })).status, 200);
});

test('an unparsable x-acs-date is InvalidTimeStamp.Format (400)', async () => {
  assertGatewayError(await rawCall(main.port, { date: 'yesterday' }), 400, 'InvalidTimeStamp.Format');
});

test('no Authorization header is IncompleteSignature (400)', async () => {
  assertGatewayError(await rawCall(main.port, { authorization: '' }), 400, 'IncompleteSignature');
});

test('an Authorization that is not ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature= is IncompleteSignature', async () => {
  assertGatewayError(await rawCall(main.port, { authorization: 'ACS3-HMAC-SHA256 Credential=x' }), 400, 'IncompleteSignature');
  assertGatewayError(await rawCall(main.port, { authorization: 'Bearer abc' }), 400, 'IncompleteSignature');
});

test('an x-acs-* header sent but not signed is IncompleteSignature', async () => {
  assertGatewayError(await rawCall(main.port, { extraUnsigned: { 'x-acs-extra': 'sneaky' } }), 400, 'IncompleteSignature');
});

test('extra signed x-acs-* headers are fine; unsigned other headers are ignored', async () => {
  const res = await rawCall(main.port, {
    extraSigned: { 'x-acs-credentials-provider': 'ak' }, extraUnsigned: { 'user-agent': 'test', accept: 'application/json' },
  });
  assert.equal(res.status, 200, res.text);
});

test('x-acs-action other than FaceCompare is InvalidApi.NotFound (404)', async () => {
  assertGatewayError(await rawCall(main.port, { action: 'DescribeVerifyResult' }), 404, 'InvalidApi.NotFound');
});

test('x-acs-version other than 2022-08-09 is InvalidApi.NotFound (404)', async () => {
  assertGatewayError(await rawCall(main.port, { version: '2019-03-07' }), 404, 'InvalidApi.NotFound');
});

test('an unknown AccessKey id is InvalidAccessKeyId.NotFound (404)', async () => {
  assertGatewayError(await rawCall(main.port, { keyId: 'nobody' }), 404, 'InvalidAccessKeyId.NotFound');
});

test('x-acs-content-sha256 that is not the hash of the body is SignatureDoesNotMatch', async () => {
  assertGatewayError(await rawCall(main.port, { bodyHash: '0'.repeat(64) }), 400, 'SignatureDoesNotMatch');
});

test('a signature made with another secret is SignatureDoesNotMatch, quoting the string to sign', async () => {
  const res = await rawCall(main.port, { secret: 'not-the-secret' });
  assertGatewayError(res, 400, 'SignatureDoesNotMatch');
  assert.match(res.body.Message, /string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
});

test('a signature over other query parameters than those sent is SignatureDoesNotMatch', async () => {
  const res = await rawCall(main.port, { query: { MerchantBizId: 'raw1' }, sentQuery: 'MerchantBizId=raw2' });
  assertGatewayError(res, 400, 'SignatureDoesNotMatch');
});

test('the query is canonicalised from its decoded values (lower-case %xx, raw / : * and %7E re-encoded per RFC 3986)', async () => {
  const url = `http://127.0.0.1:${main.port}/static/no_such*~file.jpg`;
  const sent = `SourceFacePictureUrl=http%3a//127.0.0.1:${main.port}/static/no_such*%7Efile.jpg&MerchantBizId=raw2`;
  const res = await rawCall(main.port, {
    query: { MerchantBizId: 'raw2', SourceFacePictureUrl: url }, sentQuery: sent, body: 'TargetFacePicture=x',
  });
  // The signature is accepted: the answer is the API's, about the download.
  assert.equal(res.body.Code, 'InvalidParameter', res.text);
  assert.match(res.body.Message, /could not be downloaded: HTTP status 404/);
});

test('STS: x-acs-security-token without a matching x-acs-accesskey-id is InvalidSecurityToken.Malformed', async () => {
  const res = await rawCall(main.port, { extraSigned: { 'x-acs-security-token': STS_TOKEN } });
  assertGatewayError(res, 400, 'InvalidSecurityToken.Malformed');
  const other = await rawCall(main.port, { extraSigned: { 'x-acs-security-token': STS_TOKEN, 'x-acs-accesskey-id': 'someone-else' } });
  assertGatewayError(other, 400, 'InvalidSecurityToken.Malformed');
  const ok = await rawCall(main.port, { extraSigned: { 'x-acs-security-token': STS_TOKEN, 'x-acs-accesskey-id': KEY_ID } });
  assert.equal(ok.status, 200, ok.text);
});

test('an empty body is hashed as "" and then MissingParameter for the pictures', async () => {
  const res = await rawCall(main.port, { body: '' });
  assert.equal(res.body.Code, 'MissingParameter', res.text);
  assert.match(res.body.Message, /SourceFacePicture/);
});

test('a request body over 4 MiB is ToolargeImage', async () => {
  const res = await rawCall(main.port, { body: `SourceFacePicture=${'A'.repeat(5 * 1024 * 1024)}` });
  assert.equal(res.body.Code, 'ToolargeImage');
  assert.equal(res.status, 401);
});

test('GET / and other paths are InvalidApi.NotFound (404)', async () => {
  const res = await request(main.port, { method: 'GET', path: '/' });
  assertGatewayError(res, 404, 'InvalidApi.NotFound');
});
