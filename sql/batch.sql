--
-- facecompare.compare_many(): many pairs at once, one row per pair in order,
-- each pair's failure its own.
--

-- Good pairs get verdicts; bad ones get their error; none stops the rest.
SELECT ordinal, passed, score > 90 AS high_score, error_sqlstate, error_code,
	   split_part(error_message, ':', 1) AS error_message
FROM facecompare.compare_many(
	ARRAY[fctest.img('person-a.jpg'), fctest.img('blank.png'), '\x00'::bytea, NULL,
		  fctest.img('person-b.jpg'), fctest.img('person-a.jpg')],
	ARRAY[fctest.img('person-a.png'), fctest.img('person-a.jpg'), fctest.img('person-a.jpg'),
		  fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), fctest.img('tiny.jpg')]);

-- Ids: given ones are used (a bad one fails its own pair only), NULL ones
-- are generated.
SELECT ordinal, merchant_biz_id ~ '^[0-9a-f]{32}$' AS generated,
	   CASE WHEN merchant_biz_id ~ '^[0-9a-f]{32}$' THEN '(generated)' ELSE merchant_biz_id END AS merchant_biz_id,
	   error_sqlstate
FROM facecompare.compare_many(array_fill(fctest.img('person-a.jpg'), ARRAY[3]),
							  array_fill(fctest.img('person-a.jpg'), ARRAY[3]),
							  ARRAY['BatchId1', 'bad-id', NULL]);

-- The URL form.
SELECT ordinal, passed
FROM facecompare.compare_many(ARRAY[fctest.url('person-a.jpg'), fctest.url('person-b.jpg')],
							  ARRAY[fctest.url('person-a-scaled.jpg'), fctest.url('person-a.jpg')]);

-- Arguments that cannot form pairs are errors of the whole call.
SELECT * FROM facecompare.compare_many(ARRAY[fctest.img('person-a.jpg')], ARRAY[]::bytea[]);
SELECT * FROM facecompare.compare_many(NULL::bytea[], ARRAY[fctest.img('person-a.jpg')]);
SELECT * FROM facecompare.compare_many(ARRAY[[fctest.img('person-a.jpg')]], ARRAY[[fctest.img('person-a.jpg')]]);
SELECT count(*) FROM facecompare.compare_many(ARRAY[]::bytea[], ARRAY[]::bytea[]);

-- A pair that fails twice is retried, with the same id, while the others
-- go on.
SET facecompare.retry_delay = '10ms';
SELECT ordinal, passed, error_code
FROM facecompare.compare_many(array_fill(fctest.img('person-a.jpg'), ARRAY[3]),
							  array_fill(fctest.img('person-a.jpg'), ARRAY[3]),
							  ARRAY['BatchPlain1', 'EMUFlaky2batch', 'BatchPlain2']);
SELECT fctest.requests_logged('EMUFlaky2batch');
RESET facecompare.retry_delay;

-- Requests run side by side: 16 pairs at max_concurrency 4 use up to four
-- connections at once, and reuse them.
SET facecompare.max_concurrency = 4;
SELECT count(*) FILTER (WHERE passed)
FROM facecompare.compare_many(array_fill(fctest.img('person-a.jpg'), ARRAY[16]),
							  array_fill(fctest.img('person-a.jpg'), ARRAY[16]),
							  (SELECT array_agg('Conc4x' || i) FROM generate_series(1, 16) AS i));
SELECT fctest.connections_used('Conc4x') BETWEEN 2 AND 4 AS parallel_and_reused;
RESET facecompare.max_concurrency;

-- A batch waiting on a slow service ends at statement_timeout, and the
-- session goes on.
SELECT slow_emulator FROM fctest.config \gset
SET facecompare.endpoint = :'slow_emulator';
SET statement_timeout = '500ms';
SELECT count(*) FROM facecompare.compare_many(array_fill(fctest.img('person-a.jpg'), ARRAY[8]),
											  array_fill(fctest.img('person-a.jpg'), ARRAY[8]));
RESET statement_timeout;
RESET facecompare.endpoint;
SELECT count(*) FILTER (WHERE passed)
FROM facecompare.compare_many(array_fill(fctest.img('person-a.jpg'), ARRAY[4]),
							  array_fill(fctest.img('person-a.jpg'), ARRAY[4]));
