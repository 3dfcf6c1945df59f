--
-- facecompare.compare(): the four forms, the verdict, the MerchantBizId.
--
\pset null '(null)'

-- The result type's columns, in the documented order.
SELECT attnum, attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'facecompare.result'::regclass AND attnum > 0
ORDER BY attnum;

-- Identical photos: a pass, the top score, a 32-character generated id.
SELECT passed, score, length(transaction_id) AS transaction_id_length,
	   request_id IS NOT NULL AS has_request_id,
	   merchant_biz_id ~ '^[0-9a-f]{32}$' AS generated_id
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'));

-- Generated ids come from a strong random source: never the same twice.
SELECT count(DISTINCT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), NULL)).merchant_biz_id) AS distinct_ids
FROM generate_series(1, 3);

-- The same photo re-encoded as PNG, rescaled or lightly cropped still passes.
SELECT other, r.passed, r.score >= 90 AS high_score
FROM unnest(ARRAY['person-a.png', 'person-a-scaled.jpg', 'person-a-cropped.jpg']) AS other,
	 LATERAL facecompare.compare(fctest.img('person-a.jpg'), fctest.img(other)) AS r
ORDER BY other;

-- A different person fails with a low score.
SELECT passed, score < 50 AS low_score
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'));

-- A given merchant_biz_id is sent and returned as is.
SELECT merchant_biz_id
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'Order2026x11x25');

-- The User-Agent names the version facecompare.control gives (the Makefile
-- passes it to the build), as the emulator logged it.
SELECT (regexp_match(line, ' UserAgent=(\S+)$'))[1]
	   = 'facecompare/' || e.default_version || '?(PostgreSQL?extension)' AS user_agent_has_version
FROM regexp_split_to_table(pg_read_file((SELECT emulator_log FROM fctest.config)), E'\n') AS line,
	 pg_available_extensions AS e
WHERE e.name = 'facecompare' AND line LIKE '% MerchantBizId=Order2026x11x25 %';

-- Every combination of bytes and URL, with typed arguments.
SELECT 'bytea, url' AS form, passed
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.url('person-a.png'))
UNION ALL
SELECT 'url, bytea', passed
FROM facecompare.compare(fctest.url('person-a.jpg'), fctest.img('person-b.jpg'))
UNION ALL
SELECT 'url, url', passed
FROM facecompare.compare(fctest.url('person-a.jpg'), fctest.url('person-a-cropped.jpg'));

-- Untyped literals resolve to the URL (text) form.
SELECT emulator || '/static/person-a.jpg' AS a_url,
	   emulator || '/static/person-b.jpg' AS b_url
FROM fctest.config \gset
SELECT passed FROM facecompare.compare(:'a_url', :'a_url');
SELECT passed FROM facecompare.compare(:'a_url', :'b_url');
SELECT p.oid::regprocedure
FROM pg_proc p
WHERE p.proname = 'compare' AND p.pronamespace = 'facecompare'::regnamespace
ORDER BY p.oid::regprocedure::text;

-- The score may arrive as a JSON string (as the API page documents) or a
-- number (as the SDK models it), and the success Code as "Success" or "200".
SELECT passed, score
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUScoreString1');
SELECT passed, score
FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUCodeTwoHundred1');

-- The documented "(compare(...)).*" form makes one call per row, not one per
-- column (PostgreSQL expands it into eight evaluations): the emulator logs one
-- request for this id, and the row holds one call's answer.
SELECT passed, score, merchant_biz_id
FROM (SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoOnePerRow')).*) AS r;
SELECT fctest.requests_logged('MemoOnePerRow');
-- ... while each row still gets its own call, even with equal arguments.
SELECT count(DISTINCT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoEachRow')).transaction_id)
FROM generate_series(1, 3);
SELECT fctest.requests_logged('MemoEachRow');
-- ... and two calls written in one query are two calls.
SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoTwoSites')).passed,
	   (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoTwoSites')).passed;
SELECT fctest.requests_logged('MemoTwoSites');

-- Over a table, as users run it.
CREATE TABLE uploads (id int PRIMARY KEY, selfie bytea, id_photo bytea);
INSERT INTO uploads VALUES
	(1, fctest.img('person-a.jpg'), fctest.img('person-a-scaled.jpg')),
	(2, fctest.img('person-a.jpg'), fctest.img('person-b.jpg')),
	(3, fctest.img('person-b.jpg'), fctest.img('person-b.jpg'));
SELECT u.id, (facecompare.compare(u.selfie, u.id_photo)).passed
FROM uploads u ORDER BY u.id;
SELECT u.id, r.passed, r.score >= 90 AS high_score
FROM uploads u, LATERAL facecompare.compare(u.selfie, u.id_photo, 'upload' || u.id) AS r
ORDER BY u.id;
-- "(compare(...)).*" over stored photos: they are out of line (TOAST), and
-- each row is still one call that answers for its own photos.
SELECT count(*) AS out_of_line FROM uploads
WHERE pg_column_size(selfie) > 2000 AND pg_column_size(id_photo) > 2000;
SELECT id, passed, merchant_biz_id
FROM (SELECT u.id, (facecompare.compare(u.selfie, u.id_photo, 'MemoStored' || u.id)).*
	  FROM uploads u) AS r
ORDER BY id;
SELECT fctest.requests_logged('MemoStored1') AS one, fctest.requests_logged('MemoStored2') AS two,
	   fctest.requests_logged('MemoStored3') AS three;
-- ... and reads each row's photos out of TOAST once, not once per column:
-- its buffer hits are those of the one-call LATERAL form (eight reads of
-- each photo would be several times as many).
CREATE FUNCTION pg_temp.shared_hits(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, FORMAT JSON) ' || query INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint;
END
$$;
SELECT expanded <= one_call * 1.2 AS photos_read_once_per_row
FROM (SELECT pg_temp.shared_hits('SELECT (facecompare.compare(u.selfie, u.id_photo, ''MemoReadOnce'' || u.id)).* FROM uploads u') AS expanded,
			 pg_temp.shared_hits('SELECT r.* FROM uploads u, LATERAL facecompare.compare(u.selfie, u.id_photo, ''MemoReadLateral'' || u.id) AS r') AS one_call) AS hits;
DROP TABLE uploads;
