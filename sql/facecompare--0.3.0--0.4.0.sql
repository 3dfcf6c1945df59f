-- facecompare 0.4.0: photos prepared before the call, operations (statistics,
-- circuit breaker, spend cap, compare_rows) and the full FaceCompare surface.

\echo Use "ALTER EXTENSION facecompare UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Photo preparation (prepare_image, image_info)
-- ---------------------------------------------------------------------------

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
