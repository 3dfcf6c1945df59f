--
-- When the service misbehaves (the emulator's EMUFault and EMUFlaky test
-- ids): never a verdict that was not given, never a hang, retries only where
-- they can help.
--
\x on
SET facecompare.retry_delay = '10ms';

-- Answers that are not a complete verdict are errors, quoting the RequestId
-- when there is one; none becomes a row.
SELECT fault, o.*
FROM unnest(ARRAY['EMUFaultNotJson', 'EMUFaultTruncated', 'EMUFaultNoResult', 'EMUFaultWrongShape',
				  'EMUFaultScoreOutOfRange', 'EMUFaultNoCode']) AS fault,
	 LATERAL fctest.outcome(format($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), %L)$$, fault)) AS o;

-- A 502 with an HTML body and a connection reset before any answer may pass
-- on a second try: they are retried, and the error says so.
SELECT fault, o.*
FROM unnest(ARRAY['EMUFaultHtml502', 'EMUFaultReset']) AS fault,
	 LATERAL fctest.outcome(format($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), %L)$$, fault)) AS o;

-- A 50 MB answer is not read past 1 MB.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFaultHuge')$$);

-- A redirect is not followed: the signed request goes nowhere else.
SELECT * FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFaultRedirect')$$);

-- An answer that stops halfway ends at facecompare.timeout, and is not
-- retried (the service may have acted on the request).
SET facecompare.timeout = '500ms';
SELECT state, message, detail LIKE 'Operation timed out after % milliseconds with % out of % bytes received.' AS partial_answer
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFaultStall')$$);
RESET facecompare.timeout;
SELECT fctest.requests_logged('EMUFaultStall');

-- A service that fails twice, then answers: the call succeeds.  Every attempt
-- carries the same MerchantBizId and is freshly signed (the emulator refuses
-- a reused nonce).
SELECT passed, merchant_biz_id
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFlaky2retried');
SELECT fctest.requests_logged('EMUFlaky2retried');
-- ... never more than facecompare.max_retries + 1 attempts ...
SET facecompare.max_retries = 0;
SELECT state, message, detail
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFlaky1noretry')$$);
SELECT fctest.requests_logged('EMUFlaky1noretry');
SET facecompare.max_retries = 4;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFlaky4fifth');
SELECT fctest.requests_logged('EMUFlaky4fifth');
RESET facecompare.max_retries;
-- ... and a refusal such as NoFaceDetected is never retried.
SELECT state FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('blank.png'), fctest.img('person-a.jpg'), 'NoRetryBlank')$$);
SELECT fctest.requests_logged('NoRetryBlank');

-- TLS: the certificate is always verified.  The emulator's self-signed one
-- is refused, and not retried, until facecompare.ca_file trusts it.
SELECT tls_emulator, tls_ca FROM fctest.config \gset
SET facecompare.endpoint = :'tls_emulator';
SELECT state, message, detail LIKE '%certificate%' AS certificate_refused
FROM fctest.outcome($$SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'))$$);
SET facecompare.ca_file = :'tls_ca';
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));
RESET facecompare.ca_file;
RESET facecompare.endpoint;
RESET facecompare.retry_delay;
\x off
