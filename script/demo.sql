-- The demo's SQL: a KYC uploads table, checked with one call per row.
\pset footer off
CREATE EXTENSION facecompare;

CREATE TABLE uploads (
	id serial PRIMARY KEY,
	customer text NOT NULL,
	selfie bytea,
	id_photo bytea,
	id_photo_url text
);
INSERT INTO uploads (customer, selfie, id_photo, id_photo_url) VALUES
	('alice', pg_read_binary_file(:'fixtures' || '/person-a.jpg'),
			  pg_read_binary_file(:'fixtures' || '/person-a-scaled.jpg'), NULL),
	('bob',   pg_read_binary_file(:'fixtures' || '/person-b.jpg'),
			  pg_read_binary_file(:'fixtures' || '/person-a.jpg'), NULL),
	('carol', pg_read_binary_file(:'fixtures' || '/person-a-cropped.jpg'), NULL,
			  :'emulator' || '/static/person-a.png');

\echo
\echo '1. Selfie against ID photo, both stored as bytea:'
\echo '   SELECT u.customer, (facecompare.compare(u.selfie, u.id_photo)).* FROM uploads u'
SELECT u.customer, (facecompare.compare(u.selfie, u.id_photo)).*
FROM uploads u WHERE u.id_photo IS NOT NULL ORDER BY u.id;

\echo
\echo '2. Selfie against an ID photo the service downloads from a URL:'
SELECT u.customer, r.passed, r.score, r.merchant_biz_id
FROM uploads u, LATERAL facecompare.compare(u.selfie, u.id_photo_url, 'kyc' || u.id) AS r
WHERE u.id_photo_url IS NOT NULL;

\echo
\echo '3. A report: who passed?'
SELECT u.customer, r.passed, round(r.score) AS score
FROM uploads u,
	 LATERAL facecompare.compare(u.selfie, coalesce(u.id_photo, pg_read_binary_file(:'fixtures' || '/person-a.png'))) AS r
ORDER BY r.score DESC;

\echo
\echo '4. A photo without a face is an error that says why:'
\set ON_ERROR_STOP off
SELECT facecompare.compare(pg_read_binary_file(:'fixtures' || '/blank.png'), u.selfie)
FROM uploads u WHERE u.customer = 'alice';
\set ON_ERROR_STOP on

\echo
\echo '5. The whole table in one call (compare_many), a bad photo reported in its row:'
INSERT INTO uploads (customer, selfie, id_photo)
VALUES ('dave', pg_read_binary_file(:'fixtures' || '/blank.png'), pg_read_binary_file(:'fixtures' || '/person-b.jpg'));
WITH batch AS (
	SELECT array_agg(customer ORDER BY id) AS customers,
		   array_agg(selfie ORDER BY id) AS selfies,
		   array_agg(coalesce(id_photo, selfie) ORDER BY id) AS photos
	FROM uploads)
SELECT batch.customers[r.ordinal] AS customer, r.passed, r.score, r.error_code
FROM batch, LATERAL facecompare.compare_many(batch.selfies, batch.photos) AS r;

\echo
\echo '6. New uploads verified in the background: a trigger queues them, the worker runs them:'
\echo '   CREATE TRIGGER verify AFTER INSERT ON uploads FOR EACH ROW'
\echo '   EXECUTE FUNCTION facecompare.verify_upload(''selfie'', ''id_photo'');'
CREATE TRIGGER verify AFTER INSERT ON uploads FOR EACH ROW
EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
INSERT INTO uploads (customer, selfie, id_photo) VALUES
	('erin',  pg_read_binary_file(:'fixtures' || '/person-a.jpg'), pg_read_binary_file(:'fixtures' || '/person-a.png')),
	('frank', pg_read_binary_file(:'fixtures' || '/person-b.jpg'), pg_read_binary_file(:'fixtures' || '/person-a.jpg')),
	('gina',  pg_read_binary_file(:'fixtures' || '/person-a.jpg'), NULL);
-- Wait (at most 30 s) until the worker has finished all three.
DO $$
BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN NOT EXISTS (SELECT FROM facecompare.request WHERE status IN ('pending', 'running'));
		PERFORM pg_sleep(0.1);
	END LOOP;
END $$;
SELECT u.customer, r.status, r.passed, r.score, r.error_message, round(r.latency_ms) AS latency_ms
FROM uploads u
JOIN facecompare.request_outcome r ON r.upload_table = 'public.uploads' AND r.upload_key = u.id::text
ORDER BY u.id;
\echo 'The day so far:'
SELECT finished, done, failed, passed, pass_rate, mean_score FROM facecompare.daily_summary;

\echo
\echo '7. A phone selfie as phones store it: 12 MP, sideways (EXIF Orientation 6), with GPS.'
\echo '   As stored, and as facecompare prepares it before the call (prepare_images = when_needed, the default):'
SELECT 'as stored' AS picture, format, width, height, orientation, bytes, has_metadata, acceptable
FROM facecompare.image_info(pg_read_binary_file(:'fixtures' || '/photos/phone-12mp-orient6.jpg'))
UNION ALL
SELECT 'prepared', format, width, height, orientation, bytes, has_metadata, acceptable
FROM facecompare.image_info(facecompare.prepare_image(
	pg_read_binary_file(:'fixtures' || '/photos/phone-12mp-orient6.jpg')));
SELECT 'when_needed' AS prepare_images, r.passed, r.score, r.error_message
FROM facecompare.compare(pg_read_binary_file(:'fixtures' || '/photos/phone-12mp-orient6.jpg'),
						 pg_read_binary_file(:'fixtures' || '/person-a.jpg')) r;
SET facecompare.prepare_images = off;
SET facecompare.raise_on_error = off;
SELECT 'off' AS prepare_images, r.passed, r.score, r.error_message
FROM facecompare.compare(pg_read_binary_file(:'fixtures' || '/photos/phone-12mp-orient6.jpg'),
						 pg_read_binary_file(:'fixtures' || '/person-a.jpg')) r;
RESET facecompare.prepare_images;
RESET facecompare.raise_on_error;

\echo
\echo '8. What was spent: every call of this demo, counted in shared memory (facecompare.stats):'
SELECT calls, passed, failed, errors, requests, retries, bytes_sent FROM facecompare.stats;
SELECT outcome, calls, round(p50_ms) AS p50_ms, round(p95_ms) AS p95_ms FROM facecompare.stats_latency;
