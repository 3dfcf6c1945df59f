--
-- The memo behind "(compare(...)).*": the columns of one row share one call,
-- and no other two evaluations do, wherever they run.  Each check counts the
-- calls the emulator logged and compares transaction ids as booleans.
--
CREATE TABLE memo_seen (test text, n int, transaction_id text, error_code text);
CREATE FUNCTION pg_temp.seen(test text, OUT calls bigint, OUT distinct_ids bigint)
LANGUAGE sql AS $$
	SELECT count(*), count(DISTINCT transaction_id) FROM memo_seen s WHERE s.test = seen.test $$;

-- Two PL/pgSQL statements with the same arguments are two calls.
DO $$
DECLARE
	r facecompare.result;
BEGIN
	r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoDoBlock');
	INSERT INTO memo_seen VALUES ('do block', 1, r.transaction_id);
	r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoDoBlock');
	INSERT INTO memo_seen VALUES ('do block', 2, r.transaction_id);
END $$;
SELECT * FROM pg_temp.seen('do block');
SELECT fctest.requests_logged('MemoDoBlock');

-- ... so is a FOR loop's body run twice, and two calls in the body.
DO $$
DECLARE
	r facecompare.result;
BEGIN
	FOR i IN 1..2 LOOP
		r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoLoopOnce');
		INSERT INTO memo_seen VALUES ('loop once', i, r.transaction_id);
		r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoLoopTwice');
		INSERT INTO memo_seen VALUES ('loop twice', i, r.transaction_id);
		r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-b.jpg'), 'MemoLoopTwice');
		INSERT INTO memo_seen VALUES ('loop twice', i + 2, r.transaction_id);
	END LOOP;
END $$;
SELECT * FROM pg_temp.seen('loop once');
SELECT fctest.requests_logged('MemoLoopOnce');
SELECT * FROM pg_temp.seen('loop twice');
SELECT fctest.requests_logged('MemoLoopTwice');

-- A retry after an error row is a new call, not the error again.
SET facecompare.raise_on_error = off;
SET facecompare.max_retries = 0;
DO $$
DECLARE
	r facecompare.result;
BEGIN
	r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUThrottlingApiMemoRetry');
	INSERT INTO memo_seen VALUES ('retry', 1, r.transaction_id, r.error_code);
	IF r.error_code = 'Throttling.Api' THEN
		r := facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUThrottlingApiMemoRetry');
		INSERT INTO memo_seen VALUES ('retry', 2, r.transaction_id, r.error_code);
	END IF;
END $$;
SELECT n, error_code FROM memo_seen WHERE test = 'retry' ORDER BY n;
SELECT fctest.requests_logged('EMUThrottlingApiMemoRetry');
-- ... in "(compare(...)).*" the failed call is still shared by the columns.
SELECT error_code, merchant_biz_id
FROM (SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'EMUThrottlingApiMemoRow')).*) AS r;
SELECT fctest.requests_logged('EMUThrottlingApiMemoRow');
RESET facecompare.max_retries;
RESET facecompare.raise_on_error;

-- An SQL function's two statements are two calls.
CREATE FUNCTION pg_temp.two_statements() RETURNS void LANGUAGE sql AS $$
	INSERT INTO memo_seen (test, n, transaction_id)
	SELECT 'sql function', 1, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoSqlFunction')).transaction_id;
	INSERT INTO memo_seen (test, n, transaction_id)
	SELECT 'sql function', 2, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoSqlFunction')).transaction_id;
$$;
SELECT pg_temp.two_statements();
SELECT * FROM pg_temp.seen('sql function');
SELECT fctest.requests_logged('MemoSqlFunction');

-- An SQL function called twice in one row, though inlined into the query
-- as two copies of one written call, is two calls.
CREATE FUNCTION pg_temp.wrapper(source bytea, target bytea, id text) RETURNS facecompare.result
LANGUAGE sql AS $$ SELECT facecompare.compare(source, target, id) $$;
SELECT (pg_temp.wrapper(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoInlined')).transaction_id
	   <> (pg_temp.wrapper(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoInlined')).transaction_id
	   AS different;
SELECT fctest.requests_logged('MemoInlined');

-- A prepared statement executed twice is two calls.
PREPARE memo_prepared AS
SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoPrepared')).*;
EXECUTE memo_prepared \gset first_
EXECUTE memo_prepared \gset second_
SELECT :'first_transaction_id' <> :'second_transaction_id' AS different;
DEALLOCATE memo_prepared;
SELECT fctest.requests_logged('MemoPrepared');

-- A cursor's rows are calls of their own, though their arguments are the
-- same, even when each row comes from its own copy of the call (one per
-- partition).
CREATE TABLE memo_parts (k int) PARTITION BY LIST (k);
CREATE TABLE memo_part1 PARTITION OF memo_parts FOR VALUES IN (1);
CREATE TABLE memo_part2 PARTITION OF memo_parts FOR VALUES IN (2);
INSERT INTO memo_parts VALUES (1), (2);
-- (Statistics keep the plan serial: in a parallel worker each column is a
-- call of its own, see README.)
ANALYZE memo_parts;
BEGIN;
DECLARE memo_cursor CURSOR FOR
SELECT k, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoCursor')).*
FROM memo_parts;
FETCH memo_cursor \gset first_
FETCH memo_cursor \gset second_
COMMIT;
SELECT :first_k + :second_k AS both_rows,
	   :'first_transaction_id' <> :'second_transaction_id' AS different;
SELECT fctest.requests_logged('MemoCursor');
-- ... also for the rows of one statement.
SELECT count(DISTINCT transaction_id) AS distinct_ids, count(DISTINCT request_id) AS distinct_requests
FROM (SELECT k, (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoPartitions')).*
	  FROM memo_parts) AS r;
SELECT fctest.requests_logged('MemoPartitions');
DROP TABLE memo_parts;

-- Two "(compare(...)).*" in one row: each its own call, whole.
SELECT m1 = 'MemoSiteOne' AS one, m2 = 'MemoSiteTwo' AS two, t1 <> t2 AS different,
	   r1 <> r2 AS different_requests
FROM (SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoSiteOne')).*,
			 (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoSiteTwo')).*)
	 AS s(t1, p1, sc1, r1, m1, es1, ec1, em1, fq1, il1, oc1, ka1, sh1,
		  t2, p2, sc2, r2, m2, es2, ec2, em2, fq2, il2, oc2, ka2, sh2);
SELECT fctest.requests_logged('MemoSiteOne') AS one, fctest.requests_logged('MemoSiteTwo') AS two;

-- "(compare(...)).*" over three rows is still three calls, one per row,
-- each row's columns from its own call.
SELECT count(*) AS rows, count(DISTINCT transaction_id) AS distinct_ids,
	   count(DISTINCT (transaction_id, request_id)) AS distinct_pairs
FROM (SELECT (facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoThreeRows')).*
	  FROM generate_series(1, 3)) AS r;
SELECT fctest.requests_logged('MemoThreeRows');
-- ... and the ROW((compare(...)).*) form too.
SELECT count(DISTINCT (r).transaction_id) AS distinct_ids
FROM (SELECT ROW((facecompare.compare(fctest.img('person-a.jpg'), fctest.img('person-a.jpg'), 'MemoRowForm')).*)::facecompare.result AS r
	  FROM generate_series(1, 3)) AS s;
SELECT fctest.requests_logged('MemoRowForm');

DROP TABLE memo_seen;
