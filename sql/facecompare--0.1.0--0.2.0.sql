-- facecompare 0.2.0: verify uploads without blocking them.  A queue of
-- comparisons, filled by enqueue() or the verify_upload trigger and worked
-- off by the background worker, with the outcomes kept for reports.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.2.0'" to load this file. \quit

CREATE TYPE facecompare.request_status AS ENUM ('pending', 'running', 'done', 'failed');

COMMENT ON TYPE facecompare.request_status IS
'Where a queued comparison stands: pending (waiting for the worker, or for its next attempt), running (sent by the worker), done (the service gave a verdict), failed (no verdict: see the error columns)';

-- An ordinary logged table: a crash or a failover loses no request.  Image
-- bytes are biometric data: nobody but the extension's owner reads this
-- table; facecompare_user reads the views below, which leave images out.
CREATE TABLE facecompare.request (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	status facecompare.request_status NOT NULL DEFAULT 'pending',
	-- what to compare: bytes or a URL for each side
	source_image bytea,
	source_url text,
	target_image bytea,
	target_url text,
	merchant_biz_id text NOT NULL,
	-- or, from the verify_upload trigger, the row to read them from: the
	-- images are read when the request runs, never copied here
	upload_table text,
	upload_key_column text,
	upload_key text,
	source_column text,
	target_column text,
	-- progress
	attempts integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	not_before timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz,
	-- outcome
	transaction_id text,
	passed boolean,
	score numeric,
	request_id text,
	error_sqlstate text,
	error_code text,
	error_message text,
	latency_ms double precision,
	-- A request still to run has one form of each image, or an upload row.
	CONSTRAINT request_has_images CHECK (
		status IN ('done', 'failed') OR
		(num_nonnulls(source_image, source_url) = 1 AND num_nonnulls(target_image, target_url) = 1) OR
		num_nulls(upload_table, upload_key_column, upload_key, source_column, target_column) = 0)
);

COMMENT ON TABLE facecompare.request IS
'Queue of comparisons for the background worker and their outcomes.  Images given to enqueue() are kept as bytes until the request finishes (facecompare.keep_images keeps them longer); the verify_upload trigger stores only where the upload is (upload_table, upload_key_column = upload_key) and its columns, read when the request runs';

-- The worker's claim: pending rows in order of arrival.
CREATE INDEX request_pending ON facecompare.request (id) WHERE status = 'pending';
-- Reports by day, and retention.
CREATE INDEX request_finished_at ON facecompare.request (finished_at) WHERE finished_at IS NOT NULL;
-- Joining an upload to its request.
CREATE INDEX request_upload ON facecompare.request (upload_table, upload_key) WHERE upload_table IS NOT NULL;

-- pg_dump keeps the queue and its outcomes.
SELECT pg_catalog.pg_extension_config_dump('facecompare.request', '');
SELECT pg_catalog.pg_extension_config_dump('facecompare.request_id_seq', '');

-- Every enqueue() goes through here.  SECURITY DEFINER: callers need not
-- (and do not) have any right on the table itself.
CREATE FUNCTION facecompare.enqueue_request(source_image bytea, source_url text,
	target_image bytea, target_url text, merchant_biz_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	new_id bigint;
BEGIN
	IF num_nonnulls(source_image, source_url) = 0 OR num_nonnulls(target_image, target_url) = 0 THEN
		RAISE EXCEPTION '% image is NULL',
			CASE WHEN num_nonnulls(source_image, source_url) = 0 THEN 'source' ELSE 'target' END
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'FaceCompare needs each image, as bytes (bytea) or as a URL (text).';
	END IF;
	INSERT INTO facecompare.request AS r
		(source_image, source_url, target_image, target_url, merchant_biz_id)
	VALUES (source_image, source_url, target_image, target_url,
			coalesce(merchant_biz_id, replace(gen_random_uuid()::text, '-', '')))
	RETURNING r.id INTO new_id;
	PERFORM facecompare.wake_worker_at_commit();
	RETURN new_id;
END
$$;

REVOKE EXECUTE ON FUNCTION facecompare.enqueue_request(bytea, text, bytea, text, text) FROM PUBLIC;

COMMENT ON FUNCTION facecompare.enqueue_request(bytea, text, bytea, text, text) IS
'Internal: the INSERT behind the four forms of enqueue()';

-- Tell the worker, once this transaction commits, that there is work: it
-- sees nothing before the commit, and nothing at all if the insert rolls back.
CREATE FUNCTION facecompare.wake_worker_at_commit()
RETURNS void
AS 'MODULE_PATHNAME', 'facecompare_wake_worker_at_commit'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

REVOKE EXECUTE ON FUNCTION facecompare.wake_worker_at_commit() FROM PUBLIC;

COMMENT ON FUNCTION facecompare.wake_worker_at_commit() IS
'Internal: wake the background worker when the current transaction commits; warns once per session when no worker serves this database';

-- enqueue(): the four forms of compare(), returning the request's id at once.
CREATE FUNCTION facecompare.enqueue(source bytea, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN facecompare.enqueue_request(source, NULL, target, NULL, merchant_biz_id);

CREATE FUNCTION facecompare.enqueue(source_url text, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN facecompare.enqueue_request(NULL, source_url, target, NULL, merchant_biz_id);

CREATE FUNCTION facecompare.enqueue(source bytea, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN facecompare.enqueue_request(source, NULL, NULL, target_url, merchant_biz_id);

CREATE FUNCTION facecompare.enqueue(source_url text, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN facecompare.enqueue_request(NULL, source_url, NULL, target_url, merchant_biz_id);

COMMENT ON FUNCTION facecompare.enqueue(bytea, bytea, text) IS
'Queue a comparison of source with target (JPEG or PNG bytes) for the background worker; returns the request id at once; the request runs only if this transaction commits';
COMMENT ON FUNCTION facecompare.enqueue(text, bytea, text) IS
'Queue a comparison of the picture at source_url with target (bytes); returns the request id';
COMMENT ON FUNCTION facecompare.enqueue(bytea, text, text) IS
'Queue a comparison of source (bytes) with the picture at target_url; returns the request id';
COMMENT ON FUNCTION facecompare.enqueue(text, text, text) IS
'Queue a comparison of the pictures at two http/https URLs; returns the request id';

-- The trigger for the common case:
--   CREATE TRIGGER verify AFTER INSERT ON uploads FOR EACH ROW
--   EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo' [, 'key column']);
-- Each image column is bytea (bytes) or text (URL).  The request records the
-- table, the row's key (its single-column primary key unless one is named)
-- and the two column names; the worker reads the images from the row when
-- the request runs, as the table's owner.  An upload is joined to its
-- outcome on upload_table = 'schema.table' and upload_key = key::text.
-- SECURITY DEFINER: the uploader needs no right on the queue.  It runs no
-- code of the caller's and names every object it uses in full.
CREATE FUNCTION facecompare.verify_upload()
RETURNS trigger
AS 'MODULE_PATHNAME', 'facecompare_verify_upload'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER;

COMMENT ON FUNCTION facecompare.verify_upload() IS
'Trigger: queue a comparison of the new row''s two image columns (bytea bytes or text URLs, named as arguments), read from the row when the request runs; the request records upload_table (schema.table) and upload_key (the row''s single-column primary key, or the column named as third argument, as text)';

-- Every request, without its images or URLs: where it stands.
CREATE VIEW facecompare.request_outcome AS
SELECT id, status, merchant_biz_id, upload_table, upload_key_column, upload_key, attempts,
	   created_at, not_before, started_at, finished_at,
	   transaction_id, passed, score, request_id,
	   error_sqlstate, error_code, error_message, latency_ms
FROM facecompare.request;

COMMENT ON VIEW facecompare.request_outcome IS
'Every queued request and where it stands, without image bytes or URLs; join an upload to its outcome on upload_table and upload_key';

-- Reports: one row per finished request, then summaries by day.
CREATE VIEW facecompare.finished_request AS
SELECT id, status, merchant_biz_id, upload_table, upload_key_column, upload_key, attempts,
	   created_at, finished_at, finished_at - created_at AS time_in_queue,
	   transaction_id, passed, score, request_id,
	   error_sqlstate, error_code, error_message, latency_ms
FROM facecompare.request
WHERE status IN ('done', 'failed');

COMMENT ON VIEW facecompare.finished_request IS
'One row per finished request (done or failed): verdict or error, attempts, the service call''s latency and the time from enqueue to outcome';

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
FROM facecompare.request
WHERE status IN ('done', 'failed')
GROUP BY 1;

COMMENT ON VIEW facecompare.daily_summary IS
'Finished requests per day (in the session''s TimeZone): how many were done and failed, pass rate among verdicts, score mean and median, latency mean and 95th percentile';

CREATE VIEW facecompare.score_distribution AS
SELECT bucket * 10 - 10 AS score_from,
	   CASE WHEN bucket = 10 THEN 100 ELSE bucket * 10 END AS score_below,
	   count(r.id) AS verdicts,
	   count(r.id) FILTER (WHERE r.passed) AS passed
FROM generate_series(1, 10) AS bucket
LEFT JOIN facecompare.request r
	ON r.status = 'done' AND least(width_bucket(r.score, 0, 100, 10), 10) = bucket
GROUP BY bucket;

COMMENT ON VIEW facecompare.score_distribution IS
'Verdicts by score in ten buckets of ten points ([0,10), ..., [90,100]), with how many of each passed';

CREATE VIEW facecompare.daily_errors AS
SELECT date_trunc('day', finished_at) AS day,
	   error_sqlstate,
	   error_code,
	   count(*) AS failed,
	   min(error_message) AS example_message
FROM facecompare.request
WHERE status = 'failed'
GROUP BY 1, 2, 3;

COMMENT ON VIEW facecompare.daily_errors IS
'Failed requests per day by SQLSTATE and service Code (NULL when the service never answered), with one of their messages';

-- facecompare_user may queue and read outcomes; it may not read images,
-- change requests or see other columns of the queue.
REVOKE ALL ON facecompare.request FROM PUBLIC;
GRANT EXECUTE ON FUNCTION facecompare.enqueue(bytea, bytea, text), facecompare.enqueue(text, bytea, text),
	facecompare.enqueue(bytea, text, text), facecompare.enqueue(text, text, text),
	facecompare.verify_upload() TO facecompare_user;
REVOKE EXECUTE ON FUNCTION facecompare.enqueue(bytea, bytea, text), facecompare.enqueue(text, bytea, text),
	facecompare.enqueue(bytea, text, text), facecompare.enqueue(text, text, text),
	facecompare.verify_upload() FROM PUBLIC;
GRANT SELECT ON facecompare.request_outcome, facecompare.finished_request, facecompare.daily_summary,
	facecompare.score_distribution, facecompare.daily_errors TO facecompare_user;
