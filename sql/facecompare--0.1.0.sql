-- facecompare 0.1.0: compare two faces from SQL with Alibaba Cloud ID
-- Verification's FaceCompare API (cloudauth-intl, 2022-08-09).

\echo Use "CREATE EXTENSION facecompare" to load this file. \quit

CREATE TYPE facecompare.result AS (
	transaction_id text,
	passed boolean,
	score numeric,
	request_id text,
	merchant_biz_id text,
	error_sqlstate text,
	error_code text,
	error_message text
);

COMMENT ON TYPE facecompare.result IS
'Verdict of one FaceCompare call: the service''s TransactionId, Passed (Y/N as boolean), FaceComparisonScore (0-100), RequestId, and the MerchantBizId sent; with facecompare.raise_on_error off, a failed call instead fills error_sqlstate, error_code (the service''s Code, if it answered) and error_message';

-- Four forms, one per combination of bytes (bytea) and URL (text).  Not
-- STRICT: a NULL image is an error that says so, a NULL merchant_biz_id means
-- "generate one".  VOLATILE: every call is a new remote transaction.
-- PARALLEL SAFE: a call touches no database state and no session state that
-- a parallel worker would lack (the settings are copied to workers).
-- COST 10000: a network round trip, so the planner evaluates cheap
-- conditions first (WHERE u.id = 42 AND (compare(...)).passed calls once).

CREATE FUNCTION facecompare.compare(source bytea, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS facecompare.result
AS 'MODULE_PATHNAME', 'facecompare_compare_bytea_bytea'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000;

CREATE FUNCTION facecompare.compare(source_url text, target bytea, merchant_biz_id text DEFAULT NULL)
RETURNS facecompare.result
AS 'MODULE_PATHNAME', 'facecompare_compare_url_bytea'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000;

CREATE FUNCTION facecompare.compare(source bytea, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS facecompare.result
AS 'MODULE_PATHNAME', 'facecompare_compare_bytea_url'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000;

CREATE FUNCTION facecompare.compare(source_url text, target_url text, merchant_biz_id text DEFAULT NULL)
RETURNS facecompare.result
AS 'MODULE_PATHNAME', 'facecompare_compare_url_url'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000;

COMMENT ON FUNCTION facecompare.compare(bytea, bytea, text) IS
'Compare the face in source with the face in target (JPEG or PNG bytes, base64 at most 1 MB each); merchant_biz_id is 1-32 ASCII letters/digits, generated when NULL';
COMMENT ON FUNCTION facecompare.compare(text, bytea, text) IS
'Compare the face at source_url (http/https, downloaded by the service) with the face in target (JPEG or PNG bytes)';
COMMENT ON FUNCTION facecompare.compare(bytea, text, text) IS
'Compare the face in source (JPEG or PNG bytes) with the face at target_url (http/https, downloaded by the service)';
COMMENT ON FUNCTION facecompare.compare(text, text, text) IS
'Compare the faces at two http/https URLs, both downloaded by the service; untyped literals resolve to this form';

-- Many pairs at once: up to facecompare.max_concurrency requests in flight
-- within facecompare.max_qps.  One row per pair, in order; a pair that fails
-- gets its error in the row and does not stop the others.
CREATE FUNCTION facecompare.compare_many(sources bytea[], targets bytea[], merchant_biz_ids text[] DEFAULT NULL,
	OUT ordinal integer, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_many_bytea'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000 ROWS 100;

CREATE FUNCTION facecompare.compare_many(source_urls text[], target_urls text[], merchant_biz_ids text[] DEFAULT NULL,
	OUT ordinal integer, OUT transaction_id text, OUT passed boolean, OUT score numeric,
	OUT request_id text, OUT merchant_biz_id text,
	OUT error_sqlstate text, OUT error_code text, OUT error_message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'facecompare_compare_many_url'
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000 ROWS 100;

COMMENT ON FUNCTION facecompare.compare_many(bytea[], bytea[], text[]) IS
'Compare sources[i] with targets[i] for every i, many requests at once (facecompare.max_concurrency, facecompare.max_qps); one row per pair with its ordinal and its verdict or error';
COMMENT ON FUNCTION facecompare.compare_many(text[], text[], text[]) IS
'Compare the pictures at source_urls[i] and target_urls[i] for every i, many requests at once; one row per pair with its ordinal and its verdict or error';

CREATE FUNCTION facecompare.service_url()
RETURNS text
AS 'MODULE_PATHNAME', 'facecompare_service_url'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION facecompare.service_url() IS
'Base URL that calls go to now: facecompare.endpoint, or the host of facecompare.region (-vpc with facecompare.use_internal_endpoint)';

-- Who may call: members of facecompare_user, not PUBLIC.  Each call spends the
-- server's AccessKey quota and sends biometric data abroad, so it is granted,
-- not assumed.  The role is cluster-wide and outlives the extension.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'facecompare_user') THEN
		CREATE ROLE facecompare_user NOLOGIN;
	END IF;
END
$$;

GRANT USAGE ON SCHEMA facecompare TO facecompare_user;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA facecompare FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA facecompare TO facecompare_user;
