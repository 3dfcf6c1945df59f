#!/usr/bin/env bash
# Throughput benchmark, against the emulator answering after 150 ms:
#  1. one call with a ~500 kB JPEG pair: client-side overhead per call, and
#     the same call written by hand in PL/pgSQL over pgcrypto and curl
#     (COPY ... PROGRAM), the way one would do it without facecompare;
#  2. pairs per second row at a time, with compare_many, and from 4 sessions
#     at once under a shared facecompare.max_qps, counting Throttling.Api.
# Prints its figures and whether each target of the throughput work is met.
set -euo pipefail
. "$(dirname "$0")/../../script/lib.sh"
cd "$FC_ROOT"

LATENCY_MS=150
EMULATOR_QPS=${FC_BENCH_EMULATOR_QPS:-50}
MAX_QPS=${FC_BENCH_MAX_QPS:-40}
CONCURRENCY=${FC_BENCH_CONCURRENCY:-16}
PAIRS=${FC_BENCH_PAIRS:-1000}
ROW_PAIRS=${FC_BENCH_ROW_PAIRS:-100}
SINGLE_CALLS=${FC_BENCH_SINGLE_CALLS:-30}
PLPGSQL_CALLS=${FC_BENCH_PLPGSQL_CALLS:-10}

trap fc_cleanup EXIT
fc_workdir
fc_build_and_install >/dev/null
/usr/bin/python3 test/bench/make-big-pair.py "$FC_WORK/fixtures" >/dev/null
chmod a+r "$FC_WORK"/fixtures/big-*.jpg

fc_start_emulator bench --latency-ms "$LATENCY_MS" --qps "$EMULATOR_QPS"
endpoint="http://127.0.0.1:$EMULATOR_PORT"
emulator_log=$EMULATOR_LOG
fc_start_cluster bench "$(fc_free_port)" \
	"facecompare.endpoint = '$endpoint'" \
	"facecompare.access_key_id = '$FC_KEY_ID'" \
	"facecompare.access_key_secret = '$FC_KEY_SECRET'" \
	"facecompare.max_concurrency = $CONCURRENCY" \
	"max_connections = 20"

q() { psql -X -q -At -d postgres -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
# Mean of the emulator's own time for requests whose id starts with $1.
emulator_ms() {
	grep "MerchantBizId=$1" "$emulator_log" | sed -n 's/.* \([0-9.]*\)ms$/\1/p' |
		awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n; else print "nan" }'
}
throttled() { grep "MerchantBizId=$1" "$emulator_log" | grep -c "Throttling.Api" || true; }

q <<SQL
CREATE EXTENSION facecompare;
CREATE EXTENSION pgcrypto;
CREATE TABLE big AS
SELECT pg_read_binary_file('$FC_WORK/fixtures/big-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/big-b.jpg') AS b;
CREATE TABLE pairs AS
SELECT i, pg_read_binary_file('$FC_WORK/fixtures/person-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/person-a.png') AS b
FROM generate_series(1, $PAIRS) AS i;

-- FaceCompare by hand: V3 signature with pgcrypto, the request sent with
-- curl through COPY ... PROGRAM (the body goes through a file: it is too
-- large for a command line).
CREATE FUNCTION plpgsql_compare(src bytea, tgt bytea, merchant_biz_id text,
								endpoint text, key_id text, key_secret text)
RETURNS jsonb LANGUAGE plpgsql SET client_min_messages = warning AS \$\$
DECLARE
	host text := regexp_replace(endpoint, '^https?://', '');
	stamp text := to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
	nonce text := encode(gen_random_bytes(16), 'hex');
	query text := 'MerchantBizId=' || merchant_biz_id;
	signed text := 'content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';
	file text := '/tmp/fc-bench-body-' || pg_backend_pid();
	body text;
	body_hash text;
	canonical text;
	signature text;
	answer text;
BEGIN
	body := 'SourceFacePicture=' || replace(replace(replace(replace(encode(src, 'base64'), E'\n', ''), '+', '%2B'), '/', '%2F'), '=', '%3D')
		|| '&TargetFacePicture=' || replace(replace(replace(replace(encode(tgt, 'base64'), E'\n', ''), '+', '%2B'), '/', '%2F'), '=', '%3D');
	body_hash := encode(digest(body, 'sha256'), 'hex');
	canonical := E'POST\n/\n' || query || E'\n'
		|| E'content-type:application/x-www-form-urlencoded\n'
		|| 'host:' || host || E'\n'
		|| E'x-acs-action:FaceCompare\n'
		|| 'x-acs-content-sha256:' || body_hash || E'\n'
		|| 'x-acs-date:' || stamp || E'\n'
		|| 'x-acs-signature-nonce:' || nonce || E'\n'
		|| E'x-acs-version:2022-08-09\n\n'
		|| signed || E'\n' || body_hash;
	signature := encode(hmac(E'ACS3-HMAC-SHA256\n' || encode(digest(canonical, 'sha256'), 'hex'),
							 key_secret, 'sha256'), 'hex');
	EXECUTE format('COPY (SELECT %L) TO PROGRAM %L', body, 'head -c -1 > ' || file);
	CREATE TEMP TABLE IF NOT EXISTS curl_answer (line text);
	TRUNCATE curl_answer;
	EXECUTE format('COPY curl_answer FROM PROGRAM %L WITH (FORMAT text, DELIMITER %L)',
		format('curl -s -X POST %s -H %s -H %s -H %s -H %s -H %s -H %s -H %s -H %s --data-binary @%s',
			   quote_literal(endpoint || '/?' || query),
			   quote_literal('Content-Type: application/x-www-form-urlencoded'),
			   quote_literal('x-acs-action: FaceCompare'),
			   quote_literal('x-acs-version: 2022-08-09'),
			   quote_literal('x-acs-date: ' || stamp),
			   quote_literal('x-acs-signature-nonce: ' || nonce),
			   quote_literal('x-acs-content-sha256: ' || body_hash),
			   quote_literal('Authorization: ACS3-HMAC-SHA256 Credential=' || key_id
							 || ',SignedHeaders=' || signed || ',Signature=' || signature),
			   quote_literal('Expect:'), file),
		E'\x01');
	SELECT string_agg(line, '') INTO answer FROM curl_answer;
	RETURN answer::jsonb;
END
\$\$;
SQL

echo "facecompare throughput benchmark: emulator latency ${LATENCY_MS} ms, --qps ${EMULATOR_QPS}"
echo "pair for single calls: $(stat -c %s "$FC_WORK/fixtures/big-a.jpg") + $(stat -c %s "$FC_WORK/fixtures/big-b.jpg") bytes of JPEG"
echo

# Seconds one session takes for $2 after running $1 to warm it (its
# connection to the service, caches, allocator): the timed calls then pay
# only for themselves, not for starting a backend.
timed_in_warm_session() {
	q <<SQL | tail -n 1
\o /dev/null
$1;
SELECT extract(epoch FROM clock_timestamp()) AS started \gset
$2;
\o
SELECT extract(epoch FROM clock_timestamp()) - :started;
SQL
}

# 1. One call at a time with the big pair.
secs=$(timed_in_warm_session "SELECT (facecompare.compare(a, b, 'warm1')).passed FROM big" \
	"SELECT count(*) FROM big, generate_series(1, $SINGLE_CALLS) AS i,
	  LATERAL facecompare.compare(big.a, big.b, 'single' || i) AS r WHERE r.passed")
ext_per_call=$(echo "$secs * 1000 / $SINGLE_CALLS" | bc -l)
ext_emulator=$(emulator_ms single)

secs=$(timed_in_warm_session \
	"SELECT plpgsql_compare(a, b, 'warm2', '$endpoint', '$FC_KEY_ID', '$FC_KEY_SECRET') FROM big" \
	"SELECT plpgsql_compare(a, b, 'plpgsql' || i, '$endpoint', '$FC_KEY_ID', '$FC_KEY_SECRET')
	   FROM big, generate_series(1, $PLPGSQL_CALLS) AS i")
plpgsql_per_call=$(echo "$secs * 1000 / $PLPGSQL_CALLS" | bc -l)
plpgsql_emulator=$(emulator_ms plpgsql)
answers=$(grep "MerchantBizId=plpgsql" "$emulator_log" | awk '{ print $(NF - 1) }' | sort | uniq -c | tr -s ' ')

awk -v ext="$ext_per_call" -v exte="$ext_emulator" -v pl="$plpgsql_per_call" -v ple="$plpgsql_emulator" \
	-v lat="$LATENCY_MS" -v n="$SINGLE_CALLS" -v pn="$PLPGSQL_CALLS" -v answers="$answers" 'BEGIN {
	printf "1. single call, ~500 kB JPEG pair\n";
	printf "   facecompare.compare: %.1f ms per call (%d calls): %.2f ms over the %d ms latency; emulator itself %.2f ms, so %.2f ms on the client side\n",
		ext, n, ext - lat, lat, exte, ext - exte;
	printf "   PL/pgSQL + pgcrypto + curl: %.1f ms per call (%d calls, answers:%s): %.2f ms over the latency; emulator itself %.2f ms, so %.2f ms on the client side\n",
		pl, pn, answers, pl - lat, ple, pl - ple;
	printf "   target: client-side overhead <= 2 ms: %s (%.2f ms); at least 5x less than PL/pgSQL: %s (%.1fx)\n\n",
		(ext - exte <= 2) ? "met" : "NOT met", ext - exte,
		((pl - ple) >= 5 * (ext - exte)) ? "met" : "NOT met", (pl - ple) / (ext - exte);
}'

# 2. Many pairs, with the account limit set below what the emulator allows.
q -c "ALTER SYSTEM SET facecompare.max_qps = $MAX_QPS" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
ideal=$(echo "r = $CONCURRENCY * 1000 / $LATENCY_MS; if ($MAX_QPS < r) $MAX_QPS else r" | bc -l)

t0=$(now)
q -c "SELECT count(*) FROM pairs, LATERAL facecompare.compare(pairs.a, pairs.b, 'row' || i) AS r
	  WHERE i <= $ROW_PAIRS AND r.passed" >/dev/null
t1=$(now)
row_rate=$(echo "$ROW_PAIRS / ($t1 - $t0)" | bc -l)

t0=$(now)
passed=$(q -c "SELECT count(*) FILTER (WHERE passed) FROM facecompare.compare_many(
		(SELECT array_agg(a ORDER BY i) FROM pairs), (SELECT array_agg(b ORDER BY i) FROM pairs),
		(SELECT array_agg('batch' || i ORDER BY i) FROM pairs))")
t1=$(now)
batch_rate=$(echo "$PAIRS / ($t1 - $t0)" | bc -l)

sessions() {
	local prefix=$1
	local per=$((PAIRS / 4))
	local pids=()
	for s in 1 2 3 4; do
		q -c "SELECT count(*) FILTER (WHERE passed) FROM facecompare.compare_many(
				(SELECT array_agg(a ORDER BY i) FROM pairs WHERE i <= $per),
				(SELECT array_agg(b ORDER BY i) FROM pairs WHERE i <= $per),
				(SELECT array_agg('${prefix}s${s}x' || i ORDER BY i) FROM pairs WHERE i <= $per))" >/dev/null &
		pids+=($!)
	done
	# Only these four: a bare wait would also wait for the emulator.
	wait "${pids[@]}"
}
t0=$(now)
sessions four
t1=$(now)
four_rate=$(echo "$PAIRS / ($t1 - $t0)" | bc -l)
four_throttled=$(throttled four)

# Control: the same four sessions with no limit set.
q -c "ALTER SYSTEM SET facecompare.max_qps = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
t0=$(now)
sessions nolimit
t1=$(now)
nolimit_rate=$(echo "$PAIRS / ($t1 - $t0)" | bc -l)
nolimit_throttled=$(throttled nolimit)

awk -v row="$row_rate" -v rown="$ROW_PAIRS" -v batch="$batch_rate" -v passed="$passed" \
	-v four="$four_rate" -v fourt="$four_throttled" -v nl="$nolimit_rate" -v nlt="$nolimit_throttled" \
	-v pairs="$PAIRS" -v ideal="$ideal" -v qps="$MAX_QPS" -v eqps="$EMULATOR_QPS" -v conc="$CONCURRENCY" 'BEGIN {
	printf "2. %d pairs (max_qps %d, emulator --qps %d, max_concurrency %d: ideal min(max_qps, concurrency/latency) = %.1f pairs/s)\n",
		pairs, qps, eqps, conc, ideal;
	printf "   row at a time (compare() per row, %d pairs): %.1f pairs/s\n", rown, row;
	printf "   compare_many, one session:                  %.1f pairs/s (%d passed) = %.0f%% of ideal\n", batch, passed, 100 * batch / ideal;
	printf "   compare_many, 4 sessions at once:           %.1f pairs/s = %.0f%% of ideal; Throttling.Api answers: %d\n", four, 100 * four / ideal, fourt;
	printf "   the same 4 sessions with no max_qps:        %.1f pairs/s; Throttling.Api answers: %d\n", nl, nlt;
	printf "   target: batch >= 90%% of ideal: %s; no throttling with 4 sessions under max_qps <= --qps: %s\n",
		(batch >= 0.9 * ideal) ? "met" : "NOT met", (fourt == 0) ? "met" : "NOT met";
}'
