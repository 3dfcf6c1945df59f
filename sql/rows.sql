--
-- facecompare.compare_rows(query): the pairs a query returns, read through
-- a cursor in bounded memory, one row per input row with its key.
--

CREATE TABLE fctest.pairs (k int, source bytea, target bytea, id text);
INSERT INTO fctest.pairs VALUES
	(1, fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'RowsSame1'),
	(2, fctest.img('blank.png'), fctest.img('person-a.jpg'), 'RowsBlank2'),
	(3, '\x00', fctest.img('person-a.jpg'), 'RowsJunk3'),
	(4, NULL, fctest.img('person-a.jpg'), 'RowsNull4'),
	(5, fctest.img('person-b.jpg'), fctest.img('person-a.jpg'), 'RowsOther5'),
	(6, fctest.img('person-a.jpg'), fctest.img('tiny.jpg'), 'RowsTiny6'),
	(7, fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUNoFaceDetected7'),
	(8, fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'bad id!');

-- Each row gets its verdict or its own error, as compare_many gives the
-- same pairs: both ways round, no row differs.
CREATE TEMP TABLE by_rows AS
SELECT ordinal::int AS ordinal, passed, score, merchant_biz_id, error_sqlstate, error_code,
	   split_part(error_message, ':', 1) AS error_message
FROM facecompare.compare_rows('SELECT k, source, target, id FROM fctest.pairs ORDER BY k');
CREATE TEMP TABLE by_arrays AS
SELECT ordinal, passed, score, merchant_biz_id, error_sqlstate, error_code,
	   split_part(error_message, ':', 1) AS error_message
FROM facecompare.compare_many((SELECT array_agg(source ORDER BY k) FROM fctest.pairs),
							  (SELECT array_agg(target ORDER BY k) FROM fctest.pairs),
							  (SELECT array_agg(id ORDER BY k) FROM fctest.pairs));
SELECT count(*) AS rows, (SELECT count(*) FROM by_arrays) AS array_rows FROM by_rows;
(TABLE by_rows EXCEPT TABLE by_arrays) UNION ALL (TABLE by_arrays EXCEPT TABLE by_rows);
SELECT ordinal, passed, score > 90 AS high_score, error_sqlstate, error_code, error_message
FROM by_rows ORDER BY ordinal;

-- The key comes back as its text form, whatever its type; ordinal is the
-- row's place in the query's output.  Duplicate and NULL keys are rows too.
SELECT ordinal, key, passed
FROM facecompare.compare_rows($$
	SELECT k, s, t FROM (VALUES
		(date '2026-01-02', fctest.img('person-a.jpg'), fctest.img('person-a.jpg')),
		(date '2026-01-02', fctest.img('person-b.jpg'), fctest.img('person-a.jpg')),
		(NULL, fctest.img('person-a.jpg'), fctest.img('person-a.png'))) AS v(k, s, t)
$$) ORDER BY ordinal;
SELECT key FROM facecompare.compare_rows(
	$$SELECT ROW(1, 'x y')::record, fctest.img('person-a.jpg'), fctest.img('person-a.jpg')$$);

-- Three columns: the MerchantBizId is generated; a NULL id is generated too.
SELECT merchant_biz_id ~ '^[0-9a-f]{32}$' AS generated
FROM facecompare.compare_rows($$SELECT 1, fctest.img('person-a.jpg'), fctest.img('person-a.jpg')$$)
UNION ALL
SELECT merchant_biz_id ~ '^[0-9a-f]{32}$'
FROM facecompare.compare_rows($$SELECT 1, fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), NULL::text$$);

-- Text columns are URLs the service downloads, on either side; varchar
-- and domains over text or bytea are taken too.
CREATE DOMAIN fctest.photo_domain AS bytea;
SELECT key, passed
FROM facecompare.compare_rows($$SELECT 'url-bytes', fctest.url('person-a.jpg'), fctest.img('person-a.jpg')::fctest.photo_domain$$)
UNION ALL
SELECT key, passed
FROM facecompare.compare_rows($$SELECT 'url-url', fctest.url('person-b.jpg')::varchar, fctest.url('person-a.jpg')$$)
UNION ALL
SELECT key, passed
FROM facecompare.compare_rows($$SELECT 'bytes-url', fctest.img('person-a.jpg'), fctest.url('person-a-scaled.jpg')$$);
-- A NULL URL is the row's own error.
SELECT key, error_sqlstate, error_message
FROM facecompare.compare_rows($$SELECT 'no-url', NULL::text, fctest.img('person-a.jpg')$$);

-- No rows, no calls.
SELECT count(*) FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, ''\x00''::bytea WHERE false');

-- The query's shape is checked before any call: the rule is named.
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, fctest.img(''person-a.jpg'')')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, ''\x00''::bytea, ''id'', 5')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, 42, ''\x00''::bytea')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, jsonb ''{}''')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, ''\x00''::bytea, 7')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows(NULL)$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELEC 1')$$);

-- It reads and changes nothing: one plain SELECT, no writes, no row locks.
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, ''\x00''::bytea; SELECT 2')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('DELETE FROM fctest.pairs RETURNING k, source, target')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('WITH d AS (DELETE FROM fctest.pairs RETURNING *) SELECT k, source, target FROM d')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT k, source, target FROM fctest.pairs FOR UPDATE')$$);
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('CREATE TABLE fctest.x AS SELECT 1')$$);
SELECT count(*) FROM fctest.pairs;

-- The query runs with the caller's rights: a role that may not read the
-- table may not have compare_rows read it either.
-- Like every comparison, it is for members of facecompare_user only.
CREATE ROLE fc_rows_reader;
GRANT USAGE ON SCHEMA fctest, facecompare TO fc_rows_reader;
SET ROLE fc_rows_reader;
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT 1, ''\x00''::bytea, ''\x00''::bytea')$$);
-- (compare_many, made again by the 0.4.0 update, keeps the rule.)
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_many(ARRAY[]::bytea[], ARRAY[]::bytea[])$$);
RESET ROLE;
GRANT facecompare_user TO fc_rows_reader;
SET ROLE fc_rows_reader;
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT k, source, target FROM fctest.pairs')$$);
-- ... every relation of the query, catalogs included, is read with the
-- caller's rights: nothing runs as the extension's owner.
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows('SELECT rolname, ''\x00''::bytea, ''\x00''::bytea FROM pg_authid')$$);
RESET ROLE;
REVOKE USAGE ON SCHEMA fctest, facecompare FROM fc_rows_reader;
REVOKE facecompare_user FROM fc_rows_reader;
DROP ROLE fc_rows_reader;

-- The query cannot call comparisons itself: they would share the
-- transfers compare_rows has in flight.
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows(
	'SELECT (facecompare.compare(fctest.img(''person-a.jpg''), fctest.img(''person-a.jpg''))).passed, fctest.img(''person-a.jpg''), fctest.img(''person-a.jpg'')')$$);
-- ... not even in a later row, fetched while the first pairs are in flight.
SET facecompare.max_concurrency = 1;
SELECT * FROM fctest.outcome($$SELECT * FROM facecompare.compare_rows(
	'SELECT CASE WHEN i < 3 THEN i::text ELSE (facecompare.compare(fctest.img(''person-a.jpg''), fctest.img(''person-a.jpg''))).passed::text END,
			fctest.img(''person-a.jpg''), fctest.img(''person-a.jpg'') FROM generate_series(1, 4) AS i')$$);
RESET facecompare.max_concurrency;

-- An error in the query while pairs are in flight ends the call with it;
-- the next call starts clean.
SELECT count(*) FROM facecompare.compare_rows($$
	SELECT i, fctest.img('person-a.jpg'), CASE WHEN i = 20 THEN (1 / (i - 20))::text::bytea ELSE fctest.img('person-a.jpg') END
	FROM generate_series(1, 30) AS i$$);
SELECT count(*) FILTER (WHERE passed) AS passed
FROM facecompare.compare_rows($$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg') FROM generate_series(1, 3) AS i$$);

-- More rows than the window (2 x max_concurrency): every row is decided
-- once, with its own id.
SET facecompare.max_concurrency = 2;
SELECT count(*) AS rows, count(DISTINCT key) AS keys, count(*) FILTER (WHERE passed) AS passed,
	   min(ordinal), max(ordinal)
FROM facecompare.compare_rows($$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'RowsWin' || i || 'x'
								FROM generate_series(1, 25) AS i$$);
SELECT fctest.requests_logged('RowsWin1x') AS first, fctest.requests_logged('RowsWin25x') AS last;
RESET facecompare.max_concurrency;

-- Cancel and statement_timeout stop it while it waits on a slow service;
-- nothing is left behind, and the next call works.
SELECT slow_emulator FROM fctest.config \gset
SET facecompare.endpoint = :'slow_emulator';
SET statement_timeout = '500ms';
SELECT count(*) FROM facecompare.compare_rows($$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg')
												FROM generate_series(1, 20) AS i$$);
RESET statement_timeout;
RESET facecompare.endpoint;
SELECT count(*) FILTER (WHERE passed) AS passed
FROM facecompare.compare_rows($$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg')
								FROM generate_series(1, 6) AS i$$);
-- ... in a subtransaction that catches the cancel, too; and it stops
-- within a step (100 ms) of the timeout.
SET facecompare.endpoint = :'slow_emulator';
SET statement_timeout = '400ms';
DO $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	PERFORM count(*) FROM facecompare.compare_rows(
		$q$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg') FROM generate_series(1, 8) AS i$q$);
EXCEPTION WHEN query_canceled THEN
	RAISE NOTICE 'canceled: %, promptly: %', SQLERRM, clock_timestamp() - t0 < interval '600 ms';
END $$;
RESET statement_timeout;
RESET facecompare.endpoint;
SELECT count(*) FILTER (WHERE passed) AS passed
FROM facecompare.compare_rows($$SELECT i, fctest.img('person-a.jpg'), fctest.img('person-a.jpg')
								FROM generate_series(1, 3) AS i$$);

DROP DOMAIN fctest.photo_domain;
DROP TABLE fctest.pairs;
