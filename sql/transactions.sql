--
-- Calls inside transactions, exception blocks, savepoints and parallel plans.
-- A call is a remote transaction of its own: rolling back ours cannot undo
-- it, but must leave the session and the backend's connection in order.
-- (Errors are shown terse: their RequestIds differ from run to run.)
--
\set VERBOSITY terse

-- In a transaction that is rolled back: the call is made, and the session
-- goes on.
BEGIN;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'TxRolledBack');
ROLLBACK;
SELECT fctest.requests_logged('TxRolledBack');

-- An error inside a transaction aborts it like any other error.
BEGIN;
SELECT passed FROM facecompare.compare(fctest.img('blank.png'), fctest.img('person-a.jpg'));
SELECT 1;
ROLLBACK;

-- In a PL/pgSQL exception block: the service's error is caught by code and
-- the next call in the same block works.
DO $$
DECLARE
	r facecompare.result;
BEGIN
	BEGIN
		r := facecompare.compare(fctest.img('blank.png'), fctest.img('person-a.jpg'));
	EXCEPTION WHEN data_exception THEN
		RAISE NOTICE 'caught %: %', SQLSTATE, split_part(SQLERRM, ':', 1);
	END;
	r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.png'));
	RAISE NOTICE 'then passed = %', r.passed;
END
$$;

-- In a savepoint that is rolled back, after a failed call.
BEGIN;
SAVEPOINT before_call;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('tiny.jpg'));
ROLLBACK TO SAVEPOINT before_call;
SELECT passed FROM facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a-scaled.jpg'));
COMMIT;

-- Storing verdicts: a failed row leaves nothing half-written.
CREATE TABLE verdicts (id int PRIMARY KEY, passed boolean NOT NULL, score numeric NOT NULL);
INSERT INTO verdicts
SELECT i, r.passed, r.score
FROM (VALUES (1, 'person-a.jpg'), (2, 'blank.png')) AS v(i, photo),
	 LATERAL facecompare.compare(fctest.img(v.photo), fctest.img('person-a.jpg')) AS r;
SELECT count(*) FROM verdicts;
DROP TABLE verdicts;

-- The functions say what they are: volatile, parallel safe, not strict, and
-- costly (a network round trip), so cheap conditions are evaluated first.
SELECT p.oid::regprocedure, p.provolatile, p.proparallel, p.proisstrict, p.procost
FROM pg_proc p WHERE p.pronamespace = 'facecompare'::regnamespace
ORDER BY p.oid::regprocedure::text;

-- Parallel safe, so a parallel plan runs the calls in its workers (the
-- settings reach them), with the same verdicts.
CREATE TABLE many_uploads AS
SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'person-a.png' ELSE 'person-b.jpg' END AS photo
FROM generate_series(1, 8) AS i;
ANALYZE many_uploads;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- PostgreSQL 16 renamed force_parallel_mode to debug_parallel_query.
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
			THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END AS force_parallel \gset
SET :force_parallel = on;
EXPLAIN (COSTS OFF, VERBOSE)
SELECT u.id, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img(u.photo))).passed
FROM many_uploads u;
SELECT u.id, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img(u.photo))).passed
FROM many_uploads u ORDER BY u.id;
RESET :force_parallel;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE many_uploads;
