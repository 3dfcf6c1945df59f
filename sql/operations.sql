--
-- Operations: statistics of every call, the circuit breaker, the spend cap.
-- The regression cluster preloads facecompare, so all are the server's.
--
SET facecompare.raise_on_error = off;
SET facecompare.retry_delay = '10ms';

-- Statistics count every call the engine makes, once, by outcome.
SELECT facecompare.stats_reset();
SELECT scope, calls, passed, failed, errors, requests, retries, in_flight FROM facecompare.stats;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsPass1');
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'OpsFail1');
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUNoFaceDetectedOps');
-- ... a retried call is one call and two requests ...
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFlaky1Ops');
-- ... compare_many's pairs each count ...
SELECT count(*) FROM facecompare.compare_many(ARRAY[fctest.img('person-a.jpg'), fctest.img('person-a.jpg')],
											  ARRAY[fctest.img('person-a.png'), fctest.img('person-b.jpg')]);
-- ... a throttled answer and a connection reset count as such ...
SET facecompare.max_retries = 0;
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUThrottlingApiOps');
SELECT error_sqlstate FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUFaultResetOps');
RESET facecompare.max_retries;
-- ... and arguments refused before sending are not calls of the service.
SELECT error_sqlstate FROM facecompare.compare(NULL::bytea, fctest.img('person-a.jpg'));
SELECT scope, calls, passed, failed, errors, requests, retries, throttled, transport_errors,
	   bytes_sent > 4 * octet_length(fctest.img('person-a.jpg')) AS bytes_counted,
	   in_flight, qps_wait_ms >= 0 AS waited, stats_reset <= now() AS reset_before
FROM facecompare.stats;
SELECT * FROM facecompare.stats_errors ORDER BY kind, key;
SELECT outcome, calls, p50_ms > 0 AND p50_ms <= p95_ms AND p95_ms <= p99_ms AS ordered,
	   mean_ms > 0 AS timed
FROM facecompare.stats_latency ORDER BY outcome;
SELECT pending >= 0 AND running = 0 AS counted, oldest_pending_age IS NULL OR oldest_pending_age > interval '0' AS aged
FROM facecompare.stats_queue;

-- max_qps waits are counted: three calls 100 ms apart wait about 200 ms.
ALTER SYSTEM SET facecompare.max_qps = 10;
SELECT pg_reload_conf(), pg_sleep(0.3);
SELECT facecompare.stats_reset();
SELECT count(*) FROM facecompare.compare_many(ARRAY[fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), fctest.img('person-a.jpg')],
											  ARRAY[fctest.img('person-a.png'), fctest.img('person-a.png'), fctest.img('person-a.png')]);
SELECT qps_wait_ms BETWEEN 150 AND 1000 AS waited_for_slots FROM facecompare.stats;
ALTER SYSTEM RESET facecompare.max_qps;

-- stats_reset zeroes the counters.
SELECT facecompare.stats_reset();
SELECT calls, requests, errors, (SELECT count(*) FROM facecompare.stats_errors) AS error_keys,
	   (SELECT sum(calls) FROM facecompare.stats_latency) AS timed
FROM facecompare.stats;

-- Who may read them: pg_read_all_stats and facecompare_admin, not PUBLIC
-- nor facecompare_user; only facecompare_admin may reset them.
CREATE ROLE fc_ops_plain LOGIN IN ROLE facecompare_user;
CREATE ROLE fc_ops_monitor LOGIN IN ROLE pg_read_all_stats;
CREATE ROLE fc_ops_admin LOGIN IN ROLE facecompare_admin;
GRANT USAGE ON SCHEMA fctest TO fc_ops_plain, fc_ops_monitor;
SET ROLE fc_ops_plain;
SELECT state, message FROM fctest.outcome('SELECT * FROM facecompare.stats');
SELECT state, message FROM fctest.outcome('SELECT * FROM facecompare.stats_queue');
SELECT state, message FROM fctest.outcome('SELECT facecompare.stats_reset()');
-- ... nor lift the spend cap or turn the breaker off ...
SELECT state, message FROM fctest.outcome('SET facecompare.max_calls_per_day = 0');
SELECT state, message FROM fctest.outcome('SET facecompare.breaker_cooldown = 0');
SET ROLE fc_ops_monitor;
SELECT scope, calls FROM facecompare.stats;
-- ... the schema's USAGE, granted to monitors for these views, lets them call nothing else.
SELECT state, message FROM fctest.outcome('SELECT facecompare.compare(NULL::bytea, NULL::bytea)');
SELECT state, message FROM fctest.outcome('SELECT facecompare.enqueue(NULL::bytea, NULL::bytea)');
SELECT count(*) FROM facecompare.stats_errors;
SELECT running FROM facecompare.stats_queue;
SELECT state, message FROM fctest.outcome('SELECT facecompare.stats_reset()');
SET ROLE fc_ops_admin;
SELECT scope, calls FROM facecompare.stats;
SELECT facecompare.stats_reset();
RESET ROLE;

-- The circuit breaker.  An account-level refusal opens it for the
-- credentials that got it: the next call fails at once with that refusal,
-- unsent, and a HINT says when a probe goes.
ALTER SYSTEM SET facecompare.breaker_cooldown = '1s';
SELECT pg_reload_conf(), pg_sleep(0.3);
SET facecompare.access_key_id = 'unpaid-key-id';
SET facecompare.access_key_secret = 'unpaid-secret';
SELECT error_sqlstate, error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsUnpaid1');
SELECT state, message, detail ~ '^The service answered Forbidden.AccountAccessDenied for AccessKey unpaid-key-id at .*, so facecompare''s circuit breaker is open and this call was not sent.$' AS detail_ok,
	   hint ~ '^One probe request is sent at .* \(facecompare.breaker_cooldown\), and calls resume when it passes. Activate ID Verification' AS hint_ok
FROM fctest.outcome($$SET facecompare.raise_on_error = on; SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsUnpaid2')$$);
SET facecompare.raise_on_error = off;
SELECT fctest.requests_logged('OpsUnpaid1') AS sent_first, fctest.requests_logged('OpsUnpaid2') AS sent_second;
-- ... compare_many's pairs too, every one unsent ...
SELECT ordinal, error_code FROM facecompare.compare_many(ARRAY[fctest.img('person-a.jpg'), fctest.img('person-a.jpg')],
															ARRAY[fctest.img('person-a.png'), fctest.img('person-a.png')],
															ARRAY['OpsUnpaid3', 'OpsUnpaid4']);
SELECT fctest.requests_logged('OpsUnpaid3') + fctest.requests_logged('OpsUnpaid4') AS sent;
SELECT access_key_id, state, code, sqlstate, retry_at > opened_at AS cooling, probe_in_flight, trips, probes
FROM facecompare.stats_breakers;
SELECT breakers_open, breaker_refused FROM facecompare.stats;
-- ... other credentials are not held back: another key, or the same key
-- with another secret, gets its own breaker ...
RESET facecompare.access_key_id;
RESET facecompare.access_key_secret;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsOtherKey');
-- ... after the cool-down one probe goes; refused again, the breaker opens
-- for another cool-down.
SET facecompare.access_key_id = 'unpaid-key-id';
SET facecompare.access_key_secret = 'unpaid-secret';
SELECT pg_sleep(1.1);
SELECT access_key_id, state FROM facecompare.stats_breakers;
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsUnpaidProbe');
SELECT fctest.requests_logged('OpsUnpaidProbe') AS probe_sent;
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsUnpaid5');
SELECT fctest.requests_logged('OpsUnpaid5') AS sent;
SELECT access_key_id, state, trips, probes FROM facecompare.stats_breakers;
-- ... while the same key with another secret is other credentials: it is
-- sent (and, wrong, refused and held in its own breaker).
SET facecompare.access_key_secret = 'another-secret';
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsNewSecret');
SELECT fctest.requests_logged('OpsNewSecret') AS sent;
SELECT access_key_id, state, code, trips FROM facecompare.stats_breakers ORDER BY code;
RESET facecompare.access_key_id;
RESET facecompare.access_key_secret;
-- When the cause is fixed, the probe passes and closes the breaker.  Here
-- the working key is refused once (a forced answer), then works again.
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUForbiddenRAMUserAccessDenied1');
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'OpsHeld');
SELECT fctest.requests_logged('OpsHeld') AS sent;
SELECT pg_sleep(1.1);
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsProbePasses');
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsAfterProbe');
SELECT access_key_id, state, trips, probes FROM facecompare.stats_breakers ORDER BY access_key_id;
-- Refusals that say nothing of the account (throttling, a bad image) do not open it.
SELECT error_code FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUInternalErrorOps');
SELECT breakers_open FROM facecompare.stats;
ALTER SYSTEM RESET facecompare.breaker_cooldown;

-- The spend cap: beyond facecompare.max_calls_per_day requests today (UTC),
-- calls fail at once with 53400, unsent, saying when the count starts again.
-- (the day's count depends on the suite so far: not shown)
\set ECHO none
SELECT format('ALTER SYSTEM SET facecompare.max_calls_per_day = %s', calls_today + 2) FROM facecompare.stats \gexec
\set ECHO all
SELECT pg_reload_conf(), pg_sleep(0.3);
SELECT calls_left_today, day_resets_at = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' AS midnight_utc
FROM facecompare.stats;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsCap1');
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsCap2');
SELECT state, regexp_replace(message, '[0-9]+', 'N') AS message, regexp_replace(detail, '[0-9]+', 'N') AS detail,
	   hint ~ '^The count starts again at .*\.  An administrator may raise the cap' AS hint_ok
FROM fctest.outcome($$SET facecompare.raise_on_error = on; SELECT facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsCap3')$$);
SET facecompare.raise_on_error = off;
SELECT fctest.requests_logged('OpsCap3') AS sent;
-- ... retries count too: a flaky call's second request is refused.
-- (the day's count depends on the suite so far: not shown)
\set ECHO none
SELECT format('ALTER SYSTEM SET facecompare.max_calls_per_day = %s', calls_today + 1) FROM facecompare.stats \gexec
\set ECHO all
SELECT pg_reload_conf(), pg_sleep(0.3);
SELECT error_sqlstate FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'EMUFlaky1Cap');
SELECT fctest.requests_logged('EMUFlaky1Cap') AS sent;
SELECT calls_left_today, cap_refused FROM facecompare.stats;
ALTER SYSTEM RESET facecompare.max_calls_per_day;
SELECT pg_reload_conf(), pg_sleep(0.3);
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'), 'OpsNoCap');
SELECT max_calls_per_day, calls_left_today FROM facecompare.stats;
