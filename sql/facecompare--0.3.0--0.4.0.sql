-- facecompare 0.4.0: photos prepared before the call, operations (statistics,
-- circuit breaker, spend cap, compare_rows) and the full FaceCompare surface.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Photo preparation (prepare_image, image_info)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Operations: statistics, circuit breaker, spend cap
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- compare_rows and the FaceQualityCheck / ExtFaceInfo surface
-- ---------------------------------------------------------------------------

-- A whole table in bounded memory: the pairs a query returns, read through
-- a cursor into one batch, at most 2 x max_concurrency held at once.  Runs
-- the query as the caller (not SECURITY DEFINER), read-only.  PARALLEL
-- UNSAFE: it opens a cursor, which a parallel worker cannot.  Rows come as
-- pairs are decided: ORDER BY ordinal for the query's order.
CREATE FUNCTION facecompare.compare_rows(query text,
	OUT ordinal bigint, OUT key text, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 10000 ROWS 1000;

COMMENT ON FUNCTION facecompare.compare_rows(text) IS
'Compare the pairs the query returns as (key, source, target [, merchant_biz_id]) (source, target: bytea or text URLs), many at once, holding at most 2 x facecompare.max_concurrency pairs; one row per input row with its ordinal, its key as text and its verdict or error, in the order they are decided';
