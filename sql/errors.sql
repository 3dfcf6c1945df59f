--
-- Every answer that is not a verdict raises an ERROR with a fitting SQLSTATE,
-- the service's Code and Message, the RequestId in DETAIL and the API page's
-- advice as HINT.
--
\x on

-- The API page's codes, under the conditions the page gives.
-- NoFaceDetected: a flat image has no face.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('blank.png'), fctest.img('person-a.jpg'))$$);
-- UnqualifiedPhoto: resolution below 640x480.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('tiny.jpg'))$$);
-- UnqualifiedPhoto: a URL whose content is not a picture.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.url('not-an-image.txt'), fctest.img('person-a.jpg'))$$);
-- DownloadTimeout: the service gives up on a slow URL (the emulator after 1 s).
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.url('person-a.jpg', 3000))$$);

-- Codes our own checks keep us from causing, forced by the emulator's
-- test ids (MerchantBizId "EMU" + the code without dots).
SELECT code, o.*
FROM unnest(ARRAY['EMUMissingParameter', 'EMUInvalidParameter', 'EMUDataDuplication',
				  'EMUToolargeImage', 'EMUForbiddenRAMUserAccessDenied',
				  'EMUForbiddenAccountAccessDenied', 'EMUThrottlingApi', 'EMUInternalError',
				  'EMUThrottlingUser', 'EMUServiceUnavailable', 'EMUInvalidApiNotFound']) AS code,
	 LATERAL fctest.outcome(format($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), %L)$$, code)) AS o;

-- The gateway's credential checks.
-- SignatureDoesNotMatch: the secret does not belong to the key.
SET facecompare.access_key_secret = 'not-the-secret';
SELECT state, split_part(message, ':', 1) AS message, detail, hint
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.access_key_secret;
-- InvalidAccessKeyId.NotFound: an unknown key.
SET facecompare.access_key_id = 'no-such-key';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
-- InvalidAccessKeyId.Inactive: a disabled key.
SET facecompare.access_key_id = 'inactive-key-id';
SET facecompare.access_key_secret = 'inactive-secret';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
-- Forbidden.RAMUserAccessDenied: a RAM user without the policy.
SET facecompare.access_key_id = 'denied-key-id';
SET facecompare.access_key_secret = 'denied-secret';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
-- Forbidden.AccountAccessDenied: an account with overdue payments.
SET facecompare.access_key_id = 'unpaid-key-id';
SET facecompare.access_key_secret = 'unpaid-secret';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.access_key_id;
RESET facecompare.access_key_secret;

-- STS credentials: the token is sent (and signed) with x-acs-accesskey-id.
SET facecompare.security_token = 'emulator-sts-token';
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));
SET facecompare.security_token = 'some-other-token';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.security_token;

-- Missing credentials name the setting to set.
SET facecompare.access_key_id = '';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.access_key_id;
SET facecompare.access_key_secret = '';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.access_key_secret;

-- Network failures name the endpoint and the cause.
SET facecompare.endpoint = 'http://127.0.0.1:9';
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
-- facecompare.timeout ends a call the service is slow to answer.
SELECT slow_emulator FROM fctest.config \gset
SET facecompare.endpoint = :'slow_emulator';
SET facecompare.timeout = '300ms';
SELECT state, message, hint FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
RESET facecompare.timeout;
-- statement_timeout and cancel end a waiting call with PostgreSQL's own
-- error (57014), which no PL/pgSQL WHEN OTHERS can swallow.
SET statement_timeout = '300ms';
SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));
RESET statement_timeout;
RESET facecompare.endpoint;
-- ... and the session goes on: the next call works.
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));
\x off

-- facecompare.raise_on_error = off: a query over many rows finishes and
-- reports which failed and why, while good rows get their verdicts.
SET facecompare.raise_on_error = off;
SET facecompare.retry_delay = '10ms';
SELECT u.photo, r.passed, r.score > 90 AS high_score, r.error_sqlstate, r.error_code,
	   split_part(r.error_message, ':', 1) AS error_message,
	   r.transaction_id IS NULL AS no_transaction
FROM unnest(ARRAY['person-a.png', 'blank.png', 'not-an-image.txt', 'tiny.jpg', 'person-b.jpg']) WITH ORDINALITY AS u(photo, n),
	 LATERAL facecompare.compare(fctest.img('person-a.jpg'), fctest.img(u.photo)) AS r
ORDER BY u.n;
-- ... the service's refusals and the network's failures alike ...
SELECT id, error_sqlstate, error_code
FROM unnest(ARRAY['EMUThrottlingApi1', 'EMUForbiddenAccountAccessDenied1', 'EMUFaultNotJson1']) AS id,
	 LATERAL facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), id) AS r;
-- ... a failed call under (compare(...)).* is still made once ...
SELECT error_code FROM (SELECT (facecompare.compare(fctest.img('blank.png'), fctest.img('person-a.jpg'), 'PerRowOnce')).*) AS r;
SELECT fctest.requests_logged('PerRowOnce');
-- ... but cancel and statement_timeout still stop the query.
SELECT slow_emulator FROM fctest.config \gset
SET facecompare.endpoint = :'slow_emulator';
SET statement_timeout = '300ms';
SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));
RESET statement_timeout;
RESET facecompare.endpoint;
RESET facecompare.retry_delay;
RESET facecompare.raise_on_error;
