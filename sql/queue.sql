--
-- The queue: enqueue() and the verify_upload trigger record requests at
-- once, and only what they need; no worker runs in this cluster, so every
-- request stays pending here (test/t/003_queue.pl runs them).
--

-- enqueue() returns the request's id; the session is told, once, that no
-- worker serves this database.
SELECT facecompare.enqueue(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'queued1') > 0 AS queued;
SELECT facecompare.enqueue(fctest.url('person-a.jpg'), fctest.img('person-a.png'), 'queued2') > 0 AS queued;
SELECT facecompare.enqueue('http://example.invalid/a.jpg', 'http://example.invalid/b.jpg') > 0 AS queued;
SELECT merchant_biz_id ~ '^[0-9a-f]{32}$' OR merchant_biz_id LIKE 'queued%' AS id_ok, status, attempts,
	   source_image IS NOT NULL AS source_bytes, source_url IS NOT NULL AS source_url,
	   target_image IS NOT NULL AS target_bytes, target_url IS NOT NULL AS target_url
FROM facecompare.request ORDER BY id;

-- Rule: each image is required, as for compare().
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue(NULL::bytea, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue('http://example.invalid/a.jpg', NULL::text)$$);

-- Rule: nothing is queued by a transaction that rolls back.
BEGIN;
SELECT facecompare.enqueue(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'rolledBack') > 0 AS queued;
ROLLBACK;
SELECT count(*) AS rolled_back_requests FROM facecompare.request WHERE merchant_biz_id = 'rolledBack';

-- Rule: enqueue() checks the images as compare() does, before queuing.
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue('\x'::bytea, fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue(fctest.img('person-a.jpg'), '\x00'::bytea)$$);
SELECT state, message FROM fctest.outcome($$SELECT facecompare.enqueue(
	'\xffd8ff'::bytea || pg_catalog.decode(repeat('00', 786430), 'hex'), fctest.img('person-a.jpg'))$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue('ftp://example.invalid/a.jpg', 'http://example.invalid/b.jpg')$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'not valid!')$$);

-- The trigger copies the upload's images (bytes or URL) into the request;
-- a picture that breaks a rule fails its request at once, never the insert.
CREATE TABLE fctest.uploads (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
							 selfie bytea, id_photo_url text, tag int);
CREATE TRIGGER verify AFTER INSERT ON fctest.uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo_url');
INSERT INTO fctest.uploads (selfie, id_photo_url)
VALUES (fctest.img('person-a.jpg'), fctest.url('person-a.png')), (NULL, NULL),
	   ('\xffd8ff'::bytea || pg_catalog.decode(repeat('00', 786430), 'hex'), fctest.url('person-a.png')),
	   ('GIF89a', fctest.url('person-a.png')), (fctest.img('person-a.jpg'), 'file:///etc/passwd');
SELECT upload_table, upload_key_column, upload_key, source_column, target_column, status,
	   num_nonnulls(source_image, source_url, target_image, target_url) AS images_copied,
	   source_image = fctest.img('person-a.jpg') AS same_bytes,
	   error_sqlstate, error_message, finished_at IS NOT NULL AS finished
FROM facecompare.request WHERE upload_table IS NOT NULL ORDER BY id;
-- ... joined back to the upload by its key.
SELECT u.id, r.status
FROM fctest.uploads u
JOIN facecompare.request_outcome r ON r.upload_table = 'fctest.uploads' AND r.upload_key = u.id::text
ORDER BY u.id;

-- Rule: a trigger that names the wrong columns fails the insert, saying how.
CREATE TABLE fctest.bad_uploads (id int PRIMARY KEY, selfie bytea, photo_size int);
CREATE TRIGGER missing AFTER INSERT ON fctest.bad_uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'no_such_column');
SELECT * FROM fctest.outcome($$INSERT INTO fctest.bad_uploads VALUES (1, '\x00', 1)$$);
DROP TRIGGER missing ON fctest.bad_uploads;
CREATE TRIGGER wrong_type AFTER INSERT ON fctest.bad_uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'photo_size');
SELECT * FROM fctest.outcome($$INSERT INTO fctest.bad_uploads VALUES (1, '\x00', 1)$$);
DROP TRIGGER wrong_type ON fctest.bad_uploads;
CREATE TRIGGER before_insert BEFORE INSERT ON fctest.bad_uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'selfie');
SELECT * FROM fctest.outcome($$INSERT INTO fctest.bad_uploads VALUES (1, '\x00', 1)$$);
DROP TRIGGER before_insert ON fctest.bad_uploads;
-- Without a single-column primary key, the key column is named.
CREATE TABLE fctest.keyless_uploads (ref text, selfie bytea, id_photo bytea);
CREATE TRIGGER verify AFTER INSERT ON fctest.keyless_uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
SELECT * FROM fctest.outcome($$INSERT INTO fctest.keyless_uploads VALUES ('k1', '\x00', '\x00')$$);
DROP TRIGGER verify ON fctest.keyless_uploads;
CREATE TRIGGER verify AFTER INSERT ON fctest.keyless_uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo', 'ref');
INSERT INTO fctest.keyless_uploads VALUES ('k1', '\x00', '\x00');
SELECT upload_table, upload_key_column, upload_key FROM facecompare.request
WHERE upload_table = 'fctest.keyless_uploads';

-- Reports: the views read finished rows (made by hand here).
UPDATE facecompare.request SET status = 'done', finished_at = '2026-01-02 10:00+00', passed = true,
	score = 95.5, latency_ms = 300, transaction_id = 't1', request_id = 'r1'
WHERE merchant_biz_id = 'queued1';
UPDATE facecompare.request SET status = 'done', finished_at = '2026-01-02 11:00+00', passed = false,
	score = 12, latency_ms = 500, transaction_id = 't2', request_id = 'r2'
WHERE merchant_biz_id = 'queued2';
UPDATE facecompare.request SET status = 'failed', finished_at = '2026-01-02 12:00+00',
	error_sqlstate = '22000', error_code = 'NoFaceDetected', error_message = 'FaceCompare failed with NoFaceDetected'
WHERE source_url = 'http://example.invalid/a.jpg';
-- The requests refused at enqueue finished now: pin their day, so the
-- expected output does not depend on the date the suite runs.
UPDATE facecompare.request SET finished_at = '2026-01-03 09:00+00'
WHERE status = 'failed' AND finished_at > '2026-01-03';
SET TimeZone = 'UTC';
SELECT * FROM facecompare.daily_summary;
SELECT * FROM facecompare.score_distribution WHERE verdicts > 0;
SELECT * FROM facecompare.daily_errors;
SELECT id > 0 AS has_id, status, passed, score, time_in_queue IS NOT NULL AS timed
FROM facecompare.finished_request ORDER BY id;

-- Rule: biometric data is not for PUBLIC.  facecompare_user queues and reads
-- the outcomes of its own requests; it reads no image, changes no request.
CREATE ROLE fctest_uploader LOGIN;
CREATE ROLE fctest_reporter LOGIN IN ROLE facecompare_user;
GRANT USAGE ON SCHEMA fctest TO fctest_uploader, fctest_reporter;
GRANT SELECT ON fctest.fixture TO fctest_reporter;
GRANT EXECUTE ON FUNCTION fctest.img(text) TO fctest_reporter;
GRANT INSERT ON fctest.uploads TO fctest_uploader;
SET ROLE fctest_uploader;
-- An uploader with no facecompare right still queues through the trigger.
INSERT INTO fctest.uploads (selfie, id_photo_url) VALUES ('\x00', 'http://example.invalid/c.jpg');
SELECT * FROM fctest.outcome($$SELECT count(*) FROM facecompare.request$$);
SELECT * FROM fctest.outcome($$SELECT count(*) FROM facecompare.request_outcome$$);
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue('\x00'::bytea, '\x00'::bytea)$$);
RESET ROLE;
SET ROLE fctest_reporter;
SELECT * FROM fctest.outcome($$SELECT facecompare.enqueue(fctest.img('person-a.jpg'), fctest.img('person-a.png'))$$);
SELECT * FROM fctest.outcome($$SELECT count(*) FROM facecompare.request_outcome$$);
SELECT * FROM fctest.outcome($$SELECT count(*) FROM facecompare.daily_summary$$);
SELECT * FROM fctest.outcome($$SELECT source_image FROM facecompare.request$$);
SELECT * FROM fctest.outcome($$UPDATE facecompare.request SET status = 'done'$$);
SELECT * FROM fctest.outcome($$INSERT INTO facecompare.request (merchant_biz_id, source_url, target_url) VALUES ('x', 'http://a/', 'http://b/')$$);
SELECT * FROM fctest.outcome($$LOCK TABLE facecompare.request IN ACCESS EXCLUSIVE MODE$$);
RESET ROLE;

-- Rule: each tenant sees only what it queued, or what its upload tables
-- hold; facecompare_admin sees everything.  The reports count the same.
CREATE ROLE fctest_other LOGIN IN ROLE facecompare_user;
CREATE ROLE fctest_upload_reader LOGIN IN ROLE facecompare_user;
CREATE ROLE fctest_admin LOGIN IN ROLE facecompare_admin;
GRANT USAGE ON SCHEMA fctest TO fctest_other, fctest_upload_reader;
GRANT SELECT ON fctest.uploads TO fctest_upload_reader;
SET ROLE fctest_other;
SELECT facecompare.enqueue('http://example.invalid/other-a.jpg', 'http://example.invalid/other-b.jpg', 'other1') > 0 AS queued;
SELECT merchant_biz_id, enqueued_by FROM facecompare.request_outcome;
SELECT sum(finished) AS finished FROM facecompare.daily_summary;
RESET ROLE;
SET ROLE fctest_reporter;
SELECT count(*) AS own, count(*) FILTER (WHERE merchant_biz_id = 'other1') AS others
FROM facecompare.request_outcome;
SELECT count(*) AS leaked FROM facecompare.finished_request WHERE enqueued_by::text <> 'fctest_reporter';
RESET ROLE;
SET ROLE fctest_upload_reader;
SELECT upload_table, count(*) FROM facecompare.request_outcome GROUP BY 1 ORDER BY 1;
RESET ROLE;
SELECT count(*) AS all_requests FROM facecompare.request \gset
SET ROLE fctest_admin;
SELECT count(*) = :all_requests AS sees_all FROM facecompare.request_outcome;
RESET ROLE;
SELECT (SELECT count(*) FROM facecompare.request) = (SELECT count(*) FROM facecompare.request_outcome) AS superuser_sees_all;
-- A function in the reader's WHERE sees no row the filter hides.
CREATE FUNCTION fctest.leak(text) RETURNS bool LANGUAGE plpgsql COST 0.0001 AS
$$BEGIN RAISE NOTICE 'saw %', $1; RETURN true; END$$;
GRANT EXECUTE ON FUNCTION fctest.leak(text) TO fctest_other;
SET ROLE fctest_other;
SELECT count(*) FROM facecompare.request_outcome WHERE fctest.leak(merchant_biz_id);
RESET ROLE;
SELECT grantee, privilege_type FROM information_schema.table_privileges
WHERE table_schema = 'facecompare' AND table_name = 'request' AND grantee <> current_user
ORDER BY 1, 2;

-- Rule: an installed 0.1.0 updates to the current version, same objects as a fresh install.
CREATE TEMP TABLE fresh AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'facecompare');
DROP TABLE fctest.uploads, fctest.bad_uploads, fctest.keyless_uploads;
DROP EXTENSION facecompare;
CREATE EXTENSION facecompare VERSION '0.1.0';
SELECT to_regclass('facecompare.request') IS NULL AS no_queue_in_0_1_0;
ALTER EXTENSION facecompare UPDATE TO '0.2.0';
-- Until the update, the new library's trigger queues into 0.2.0's table,
-- images included.  0.2.0's own trigger queued where an upload was, not its
-- images (the row made by hand below): the update fails such requests still
-- to run, saying why; the others keep going.
CREATE TABLE fctest.uploads (id int PRIMARY KEY, selfie bytea, id_photo bytea);
CREATE TRIGGER verify AFTER INSERT ON fctest.uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
INSERT INTO fctest.uploads VALUES (1, fctest.img('person-a.jpg'), fctest.img('person-a.png'));
INSERT INTO facecompare.request (merchant_biz_id, upload_table, upload_key_column, upload_key,
								 source_column, target_column)
VALUES ('by020trigger', 'fctest.uploads', 'id', '1', 'selfie', 'id_photo');
SELECT facecompare.enqueue(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'from020') > 0 AS queued;
ALTER EXTENSION facecompare UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'facecompare';
SELECT CASE WHEN merchant_biz_id IN ('by020trigger', 'from020') THEN merchant_biz_id ELSE 'generated' END AS id,
	   status, error_sqlstate, error_message,
	   num_nonnulls(source_image, target_image) AS images,
	   upload_relid = 'fctest.uploads'::regclass AS upload_relid
FROM facecompare.request ORDER BY id;
DROP TABLE fctest.uploads;
SELECT object FROM fresh
EXCEPT
SELECT pg_describe_object(classid, objid, objsubid)
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'facecompare');
SELECT pg_describe_object(classid, objid, objsubid)
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'facecompare')
EXCEPT
SELECT object FROM fresh;
SELECT count(*) > 20 AS objects FROM fresh;
DROP OWNED BY fctest_uploader, fctest_reporter, fctest_other, fctest_upload_reader, fctest_admin;
DROP ROLE fctest_uploader, fctest_reporter, fctest_other, fctest_upload_reader, fctest_admin;
