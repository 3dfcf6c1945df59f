-- facecompare 0.4.0: photos prepared before the call, operations (statistics,
-- circuit breaker, spend cap, compare_rows) and the full FaceCompare surface.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Photo preparation (prepare_image, image_info)
-- ---------------------------------------------------------------------------

-- What a comparison would send for this picture under the current settings
-- (facecompare.prepare_images and the limits): STABLE, it reads them.  A
-- preparation decodes and encodes a photo: 10-100 ms of CPU.
CREATE FUNCTION facecompare.prepare_image(image bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'facecompare_prepare_image'
LANGUAGE C STRICT STABLE PARALLEL SAFE COST 100000;

COMMENT ON FUNCTION facecompare.prepare_image(bytea) IS
'The picture as compare() would send it under the current facecompare.prepare_images: as given, or upright, scaled to 720 px on its shorter side, re-encoded as a baseline JPEG without metadata; raises 22023 naming the rule a picture breaks';

-- What the header says; reads no pixel and no setting, so it may sit in a
-- CHECK constraint or an index.
CREATE FUNCTION facecompare.image_info(image bytea,
	OUT format text, OUT width integer, OUT height integer, OUT orientation integer,
	OUT bytes bigint, OUT has_metadata boolean, OUT acceptable boolean, OUT problems text[])
RETURNS record
AS 'MODULE_PATHNAME', 'facecompare_image_info'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE COST 100;

COMMENT ON FUNCTION facecompare.image_info(bytea) IS
'Format, stored width and height, EXIF orientation, size and metadata of a picture from its header, whether the service would take it as it is, and the problems in words';

-- The caller's facecompare.prepare_images, kept with a queued request so the
-- worker prepares it as the caller would have; NULL (queued before 0.4.0): off.
ALTER TABLE facecompare.request ADD COLUMN prepare_images text
	CHECK (prepare_images IN ('off', 'when_needed', 'always'));

-- ---------------------------------------------------------------------------
-- Operations: statistics, circuit breaker, spend cap
-- ---------------------------------------------------------------------------

-- Statistics of every call the engine made (compare, compare_many,
-- compare_rows, the queue's worker), kept in shared memory when facecompare
-- is preloaded: scope says 'cluster', or 'session' when each backend counts
-- its own.  Readable by pg_read_all_stats and facecompare_admin only: the
-- counts tell how the account is used.
CREATE FUNCTION facecompare.stats_counters(
	OUT scope text, OUT calls bigint, OUT passed bigint, OUT failed bigint, OUT errors bigint,
	OUT requests bigint, OUT retries bigint, OUT throttled bigint, OUT transport_errors bigint,
	OUT bytes_sent bigint, OUT in_flight integer, OUT qps_wait_ms double precision,
	OUT breaker_refused bigint, OUT cap_refused bigint, OUT breakers_open integer,
	OUT calls_today bigint, OUT max_calls_per_day integer, OUT calls_left_today bigint,
	OUT day_resets_at timestamptz, OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'facecompare_stats'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE VIEW facecompare.stats AS SELECT * FROM facecompare.stats_counters();

COMMENT ON VIEW facecompare.stats IS
'Calls made through facecompare since stats_reset: outcomes, requests, retries, throttling, transport errors, bytes, requests in flight, time waited for max_qps slots, calls refused by the circuit breaker or the spend cap, and the day''s count against facecompare.max_calls_per_day; scope is cluster when facecompare is preloaded, else session (this backend only)';

CREATE FUNCTION facecompare.stats_latency(
	OUT outcome text, OUT calls bigint, OUT mean_ms double precision,
	OUT p50_ms double precision, OUT p95_ms double precision, OUT p99_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_stats_latency'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 3;

CREATE VIEW facecompare.stats_latency AS SELECT * FROM facecompare.stats_latency();

COMMENT ON VIEW facecompare.stats_latency IS
'Latency of calls from first send to outcome (retries included), per outcome (passed, failed, error): mean and percentiles from a fixed histogram of 8 buckets per doubling (within 9%); calls never sent are not in it';

CREATE FUNCTION facecompare.stats_errors(OUT kind text, OUT key text, OUT errors bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_stats_errors'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE VIEW facecompare.stats_errors AS SELECT * FROM facecompare.stats_errors();

COMMENT ON VIEW facecompare.stats_errors IS
'Calls that ended in an error, counted by the service''s Code (kind code) and by SQLSTATE (kind sqlstate); kind other counts those beyond the table''s 64 keys';

CREATE FUNCTION facecompare.stats_breakers(
	OUT access_key_id text, OUT state text, OUT code text, OUT sqlstate text,
	OUT opened_at timestamptz, OUT retry_at timestamptz, OUT probe_in_flight boolean,
	OUT trips bigint, OUT probes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_stats_breakers'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE VIEW facecompare.stats_breakers AS SELECT * FROM facecompare.stats_breakers();

COMMENT ON VIEW facecompare.stats_breakers IS
'The circuit breakers: one row per set of credentials (shown by AccessKey ID) that an account-level refusal tripped; state closed, open (until retry_at) or half-open (one probe request may go)';

-- The queue's line: owner's rights, so that readers of the statistics need
-- no right on facecompare.request (which holds images).
CREATE FUNCTION facecompare.stats_queue(OUT pending bigint, OUT running bigint,
	OUT oldest_pending_age interval)
RETURNS record
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'pending'::facecompare.request_status),
	   pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'running'::facecompare.request_status),
	   pg_catalog.now() OPERATOR(pg_catalog.-)
		   pg_catalog.min(r.created_at) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'pending'::facecompare.request_status)
FROM facecompare.request AS r
WHERE r.status OPERATOR(pg_catalog.=) ANY ('{pending,running}'::facecompare.request_status[])
$$;

CREATE VIEW facecompare.stats_queue AS SELECT * FROM facecompare.stats_queue();

COMMENT ON VIEW facecompare.stats_queue IS
'The queue now: requests pending and running, and how long the oldest pending one has waited since it was queued';

CREATE FUNCTION facecompare.stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'facecompare_stats_reset'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION facecompare.stats_counters() IS 'The row of facecompare.stats';
COMMENT ON FUNCTION facecompare.stats_latency() IS 'The rows of facecompare.stats_latency';
COMMENT ON FUNCTION facecompare.stats_errors() IS 'The rows of facecompare.stats_errors';
COMMENT ON FUNCTION facecompare.stats_breakers() IS 'The rows of facecompare.stats_breakers';
COMMENT ON FUNCTION facecompare.stats_queue() IS 'The row of facecompare.stats_queue';
COMMENT ON FUNCTION facecompare.stats_reset() IS
'Zero the counters and latency histograms of facecompare.stats (requests in flight, breakers and the day''s count are kept)';

REVOKE ALL ON FUNCTION facecompare.stats_counters(), facecompare.stats_latency(), facecompare.stats_errors(),
	facecompare.stats_breakers(), facecompare.stats_queue(), facecompare.stats_reset() FROM PUBLIC;
REVOKE ALL ON facecompare.stats, facecompare.stats_latency, facecompare.stats_errors,
	facecompare.stats_breakers, facecompare.stats_queue FROM PUBLIC;
GRANT USAGE ON SCHEMA facecompare TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION facecompare.stats_counters(), facecompare.stats_latency(), facecompare.stats_errors(),
	facecompare.stats_breakers(), facecompare.stats_queue() TO pg_read_all_stats, facecompare_admin;
GRANT SELECT ON facecompare.stats, facecompare.stats_latency, facecompare.stats_errors,
	facecompare.stats_breakers, facecompare.stats_queue TO pg_read_all_stats, facecompare_admin;
-- Resetting is an administrator's act, as pg_stat_statements_reset is.
GRANT EXECUTE ON FUNCTION facecompare.stats_reset() TO facecompare_admin;

-- ---------------------------------------------------------------------------
-- compare_rows and the FaceQualityCheck / ExtFaceInfo surface
-- ---------------------------------------------------------------------------

-- Result.ExtFaceInfo, which the service adds when asked (FaceQualityCheck=Y,
-- facecompare.face_quality_check): five scores, NULL when not asked for or
-- not answered.  New attributes go last, so (compare(...)).* gains columns
-- and every earlier column keeps its place.
ALTER TYPE facecompare.result
	ADD ATTRIBUTE face_quality_score numeric,
	ADD ATTRIBUTE illumination_score numeric,
	ADD ATTRIBUTE occlusion_score numeric,
	ADD ATTRIBUTE ka_occlusion_score numeric,
	ADD ATTRIBUTE sharpness_score numeric;

COMMENT ON TYPE facecompare.result IS
'Verdict of one FaceCompare call: the service''s TransactionId, Passed (Y/N as boolean), FaceComparisonScore (0-100), RequestId, and the MerchantBizId sent; with facecompare.raise_on_error off, a failed call instead fills error_sqlstate, error_code (the service''s Code, if it answered) and error_message; with facecompare.face_quality_check on, the five scores of Result.ExtFaceInfo (0-100, NULL when absent)';

-- compare_many's rows gain the same columns: OUT parameters cannot be
-- added in place.
DROP FUNCTION facecompare.compare_many(bytea[], bytea[], text[]);
DROP FUNCTION facecompare.compare_many(text[], text[], text[]);

CREATE FUNCTION facecompare.compare_many(sources bytea[], targets bytea[], merchant_biz_ids text[] DEFAULT NULL,
	OUT ordinal integer, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text,
	OUT face_quality_score numeric, OUT illumination_score numeric, OUT occlusion_score numeric,
	OUT ka_occlusion_score numeric, OUT sharpness_score numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_many_bytea'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000 ROWS 100;

CREATE FUNCTION facecompare.compare_many(source_urls text[], target_urls text[], merchant_biz_ids text[] DEFAULT NULL,
	OUT ordinal integer, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text,
	OUT face_quality_score numeric, OUT illumination_score numeric, OUT occlusion_score numeric,
	OUT ka_occlusion_score numeric, OUT sharpness_score numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_many_url'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000 ROWS 100;

COMMENT ON FUNCTION facecompare.compare_many(bytea[], bytea[], text[]) IS
'Compare sources[i] with targets[i] for every i, many requests at once (facecompare.max_concurrency, facecompare.max_qps); one row per pair with its ordinal and its verdict or error.  Holds both arrays whole: for a big table use compare_rows';
COMMENT ON FUNCTION facecompare.compare_many(text[], text[], text[]) IS
'Compare the pictures at source_urls[i] and target_urls[i] for every i, many requests at once; one row per pair with its ordinal and its verdict or error';

-- A whole table in bounded memory: the pairs a query returns, read through
-- a cursor into one batch, at most 2 x max_concurrency held at once.  Runs
-- the query as the caller (not SECURITY DEFINER), read-only.  PARALLEL
-- UNSAFE: it opens a cursor, which a parallel worker cannot.  Rows come as
-- pairs are decided: ORDER BY ordinal for the query's order.
-- face_quality_check NULL: the setting facecompare.face_quality_check.
CREATE FUNCTION facecompare.compare_rows(query text, face_quality_check boolean DEFAULT NULL,
	OUT ordinal bigint, OUT key text, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text,
	OUT face_quality_score numeric, OUT illumination_score numeric, OUT occlusion_score numeric,
	OUT ka_occlusion_score numeric, OUT sharpness_score numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 10000 ROWS 1000;

-- Each call spends the account's money: members of facecompare_user only,
-- as for every comparison since 0.1.0 (a new function is PUBLIC's by default).
REVOKE EXECUTE ON FUNCTION facecompare.compare_many(bytea[], bytea[], text[]),
	facecompare.compare_many(text[], text[], text[]), facecompare.compare_rows(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION facecompare.compare_many(bytea[], bytea[], text[]),
	facecompare.compare_many(text[], text[], text[]), facecompare.compare_rows(text, boolean) TO facecompare_user;

COMMENT ON FUNCTION facecompare.compare_rows(text, boolean) IS
'Compare the pairs the query returns as (key, source, target [, merchant_biz_id]) (source, target: bytea or text URLs), many at once, holding at most 2 x facecompare.max_concurrency pairs; one row per input row with its ordinal, its key as text and its verdict or error, in the order they are decided';

-- The queue: a request asks for the scores as the session that queued it
-- did (facecompare.face_quality_check at enqueue() or the upload), and its
-- outcome keeps them.
ALTER TABLE facecompare.request
	ADD COLUMN face_quality_check boolean NOT NULL DEFAULT false,
	ADD COLUMN face_quality_score numeric,
	ADD COLUMN illumination_score numeric,
	ADD COLUMN occlusion_score numeric,
	ADD COLUMN ka_occlusion_score numeric,
	ADD COLUMN sharpness_score numeric;

COMMENT ON COLUMN facecompare.request.face_quality_check IS
'Whether the request asks the service for the face-quality scores (FaceQualityCheck=Y): facecompare.face_quality_check of the session that queued it';

-- The views show them too, as their last columns.
CREATE OR REPLACE VIEW facecompare.request_outcome WITH (security_barrier) AS
SELECT r.id, r.status, r.merchant_biz_id, r.upload_table, r.upload_key_column, r.upload_key, r.attempts,
	   r.created_at, r.not_before, r.started_at, r.finished_at,
	   r.transaction_id, r.passed, r.score, r.request_id,
	   r.error_sqlstate, r.error_code, r.error_message, r.latency_ms,
	   r.enqueued_by::regrole AS enqueued_by,
	   r.face_quality_check, r.face_quality_score, r.illumination_score, r.occlusion_score,
	   r.ka_occlusion_score, r.sharpness_score
FROM facecompare.request r
WHERE pg_catalog.pg_has_role((SELECT a.oid FROM pg_catalog.pg_roles a WHERE a.rolname = 'facecompare_admin'), 'MEMBER')
   OR pg_catalog.pg_has_role(r.enqueued_by, 'MEMBER')
   OR pg_catalog.has_table_privilege(r.upload_relid, 'SELECT');

CREATE OR REPLACE VIEW facecompare.finished_request AS
SELECT id, status, merchant_biz_id, upload_table, upload_key_column, upload_key, attempts,
	   created_at, finished_at, finished_at - created_at AS time_in_queue,
	   transaction_id, passed, score, request_id,
	   error_sqlstate, error_code, error_message, latency_ms, enqueued_by,
	   face_quality_check, face_quality_score, illumination_score, occlusion_score,
	   ka_occlusion_score, sharpness_score
FROM facecompare.request_outcome
WHERE status IN ('done', 'failed');
