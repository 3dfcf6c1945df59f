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
