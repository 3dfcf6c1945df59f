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
