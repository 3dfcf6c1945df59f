-- facecompare 0.3.0: the queue runs no one else's code.  The verify_upload
-- trigger copies an upload's images into its request, so the worker never
-- reads a user's table; enqueue() and the trigger check the images when they
-- are queued; each tenant sees only its own requests.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.3.0'" to load this file. \quit

-- Sees every request, for DBAs and dashboards.  Cluster-wide, like
-- facecompare_user, and kept when the extension is dropped.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'facecompare_admin') THEN
		CREATE ROLE facecompare_admin NOLOGIN;
	END IF;
END
$$;

-- Who queued a request, and the upload table it came from: what decides
-- who may see it.
ALTER TABLE facecompare.request
	ADD COLUMN enqueued_by oid,
	ADD COLUMN upload_relid oid;

COMMENT ON COLUMN facecompare.request.enqueued_by IS
'The role that queued the request: the caller of enqueue(), or the role whose INSERT or UPDATE fired verify_upload; its members see the request';
COMMENT ON COLUMN facecompare.request.upload_relid IS
'For verify_upload requests, the upload table; whoever may SELECT from it sees the request';

UPDATE facecompare.request SET upload_relid = pg_catalog.to_regclass(upload_table)
WHERE upload_table IS NOT NULL;

-- 0.2.0's trigger queued where an upload was, not its images, and 0.3.0's
-- worker no longer reads upload tables: such requests still to run fail,
-- saying how to queue them again.
UPDATE facecompare.request
SET status = 'failed', finished_at = pg_catalog.now(), error_sqlstate = '55000', error_code = NULL,
	error_message = 'queued by facecompare 0.2.0 without its images; 0.3.0 no longer reads upload tables: queue it again'
WHERE status IN ('pending', 'running') AND upload_table IS NOT NULL
	AND pg_catalog.num_nonnulls(source_image, source_url, target_image, target_url) = 0;

-- Every request still to run carries its images (bytes or URL).
ALTER TABLE facecompare.request DROP CONSTRAINT request_has_images;
ALTER TABLE facecompare.request ADD CONSTRAINT request_has_images CHECK (
	status IN ('done', 'failed') OR
	(num_nonnulls(source_image, source_url) = 1 AND num_nonnulls(target_image, target_url) = 1));

-- JPEG and PNG bytes do not compress: don't try.
ALTER TABLE facecompare.request ALTER COLUMN source_image SET STORAGE EXTERNAL,
	ALTER COLUMN target_image SET STORAGE EXTERNAL;

COMMENT ON TABLE facecompare.request IS
'Queue of comparisons for the background worker and their outcomes.  Each request carries its images, as bytes until it finishes (facecompare.keep_images keeps them longer) or as URLs; verify_upload requests also record where the upload is (upload_table, upload_key_column = upload_key)';

-- enqueue() and the trigger are C now: they check the images as compare()
-- does and queue as the queue's owner, recording who asked.
CREATE OR REPLACE FUNCTION facecompare.enqueue(source bytea, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'facecompare_enqueue_bytea_bytea'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER COST 100;

CREATE OR REPLACE FUNCTION facecompare.enqueue(source_url text, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'facecompare_enqueue_url_bytea'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER COST 100;

CREATE OR REPLACE FUNCTION facecompare.enqueue(source bytea, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'facecompare_enqueue_bytea_url'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER COST 100;

CREATE OR REPLACE FUNCTION facecompare.enqueue(source_url text, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'facecompare_enqueue_url_url'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER COST 100;

COMMENT ON FUNCTION facecompare.enqueue(bytea, bytea, text) IS
'Queue a comparison of source with target (JPEG or PNG bytes, checked as compare() checks them) for the background worker; returns the request id at once; the request runs only if this transaction commits';

CREATE OR REPLACE FUNCTION facecompare.verify_upload()
RETURNS trigger
AS 'MODULE_PATHNAME', 'facecompare_verify_upload'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER;

COMMENT ON FUNCTION facecompare.verify_upload() IS
'Trigger: queue a comparison of the new row''s two image columns (bytea bytes or text URLs, named as arguments), copied into the request; a picture that breaks a rule records a failed request instead of failing the insert; the request records upload_table (schema.table) and upload_key (the row''s single-column primary key, or the column named as third argument, as text)';

DROP FUNCTION facecompare.enqueue_request(bytea, text, bytea, text, text);
DROP FUNCTION facecompare.wake_worker_at_commit();

-- The views show a request to members of the role that queued it, to those
-- who may read its upload table, and to facecompare_admin.  The report
-- views build on request_outcome, so they count only what their reader may
-- see.  security_barrier: a function in the reader's WHERE sees no row
-- the filter hides.
DROP VIEW facecompare.request_outcome, facecompare.finished_request, facecompare.daily_summary,
	facecompare.score_distribution, facecompare.daily_errors;

CREATE VIEW facecompare.request_outcome WITH (security_barrier) AS
SELECT r.id, r.status, r.merchant_biz_id, r.upload_table, r.upload_key_column, r.upload_key, r.attempts,
	   r.created_at, r.not_before, r.started_at, r.finished_at,
	   r.transaction_id, r.passed, r.score, r.request_id,
	   r.error_sqlstate, r.error_code, r.error_message, r.latency_ms,
	   r.enqueued_by::regrole AS enqueued_by
FROM facecompare.request r
WHERE pg_catalog.pg_has_role((SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname = 'facecompare_admin'), 'MEMBER')
   OR pg_catalog.pg_has_role(r.enqueued_by, 'MEMBER')
   OR pg_catalog.has_table_privilege(r.upload_relid, 'SELECT');

COMMENT ON VIEW facecompare.request_outcome IS
'The queued requests the current role may see (queued by a role it belongs to, from an upload table it may read, or all for facecompare_admin) and where they stand, without image bytes or URLs; join an upload to its outcome on upload_table and upload_key';

CREATE VIEW facecompare.finished_request AS
SELECT id, status, merchant_biz_id, upload_table, upload_key_column, upload_key, attempts,
	   created_at, finished_at, finished_at - created_at AS time_in_queue,
	   transaction_id, passed, score, request_id,
	   error_sqlstate, error_code, error_message, latency_ms, enqueued_by
FROM facecompare.request_outcome
WHERE status IN ('done', 'failed');

COMMENT ON VIEW facecompare.finished_request IS
'One row per finished request the current role may see (done or failed): verdict or error, attempts, the service call''s latency and the time from enqueue to outcome';

CREATE VIEW facecompare.daily_summary AS
SELECT date_trunc('day', finished_at) AS day,
	   count(*) AS finished,
	   count(*) FILTER (WHERE status = 'done') AS done,
	   count(*) FILTER (WHERE status = 'failed') AS failed,
	   count(*) FILTER (WHERE passed) AS passed,
	   round(count(*) FILTER (WHERE passed)::numeric / nullif(count(*) FILTER (WHERE status = 'done'), 0), 4) AS pass_rate,
	   round(avg(score), 2) AS mean_score,
	   percentile_cont(0.5) WITHIN GROUP (ORDER BY score) AS median_score,
	   round(avg(latency_ms)::numeric, 1) AS mean_latency_ms,
	   round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 1) AS p95_latency_ms
FROM facecompare.request_outcome
WHERE status IN ('done', 'failed')
GROUP BY 1;

COMMENT ON VIEW facecompare.daily_summary IS
'Finished requests the current role may see, per day (in the session''s TimeZone): how many were done and failed, pass rate among verdicts, score mean and median, latency mean and 95th percentile';

CREATE VIEW facecompare.score_distribution AS
SELECT bucket * 10 - 10 AS score_from,
	   CASE WHEN bucket = 10 THEN 100 ELSE bucket * 10 END AS score_below,
	   count(r.id) AS verdicts,
	   count(r.id) FILTER (WHERE r.passed) AS passed
FROM generate_series(1, 10) AS bucket
LEFT JOIN facecompare.request_outcome r
	ON r.status = 'done' AND least(width_bucket(r.score, 0, 100, 10), 10) = bucket
GROUP BY bucket;

COMMENT ON VIEW facecompare.score_distribution IS
'Verdicts the current role may see, by score in ten buckets of ten points ([0,10), ..., [90,100]), with how many of each passed';

CREATE VIEW facecompare.daily_errors AS
SELECT date_trunc('day', finished_at) AS day,
	   error_sqlstate,
	   error_code,
	   count(*) AS failed,
	   min(error_message) AS example_message
FROM facecompare.request_outcome
WHERE status = 'failed'
GROUP BY 1, 2, 3;

COMMENT ON VIEW facecompare.daily_errors IS
'Failed requests the current role may see, per day by SQLSTATE and service Code (NULL when the service never answered), with one of their messages';

GRANT SELECT ON facecompare.request_outcome, facecompare.finished_request, facecompare.daily_summary,
	facecompare.score_distribution, facecompare.daily_errors TO facecompare_user, facecompare_admin;
GRANT USAGE ON SCHEMA facecompare TO facecompare_admin;
