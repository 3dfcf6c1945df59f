#!/usr/bin/env bash
# Throughput benchmark, against the emulator answering after 150 ms:
#  1. single calls with two ~500 kB and two ~250 kB JPEGs: client-side
#     overhead per call, and the same call written by hand in PL/pgSQL over
#     pgcrypto and curl (COPY ... PROGRAM), the way one would do it without
#     facecompare;
#  2. pairs per second row at a time, with compare_many, and from 4 sessions
#     at once under a shared facecompare.max_qps, counting Throttling.Api.
# Prints its figures and whether each target of the throughput work is met.
# FC_BENCH_PARTS=1 (or 2) runs one part only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$FC_ROOT"

LATENCY_MS=150
EMULATOR_QPS=${FC_BENCH_EMULATOR_QPS:-50}
MAX_QPS=${FC_BENCH_MAX_QPS:-40}
CONCURRENCY=${FC_BENCH_CONCURRENCY:-16}
PAIRS=${FC_BENCH_PAIRS:-1000}
ROW_PAIRS=${FC_BENCH_ROW_PAIRS:-100}
SINGLE_CALLS=${FC_BENCH_SINGLE_CALLS:-60}
PLPGSQL_CALLS=${FC_BENCH_PLPGSQL_CALLS:-10}
PARTS=${FC_BENCH_PARTS:-12}

bench_start_big_pairs "$LATENCY_MS" "$EMULATOR_QPS" "$CONCURRENCY"

q <<SQL
CREATE EXTENSION facecompare;
CREATE EXTENSION pgcrypto;
CREATE TABLE big AS
SELECT pg_read_binary_file('$FC_WORK/fixtures/big-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/big-b.jpg') AS b;
CREATE TABLE half AS
SELECT pg_read_binary_file('$FC_WORK/fixtures/half-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/half-b.jpg') AS b;
CREATE TABLE pairs AS
SELECT i, pg_read_binary_file('$FC_WORK/fixtures/person-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/person-a.png') AS b
FROM generate_series(1, $PAIRS) AS i;
ALTER TABLE pairs ADD PRIMARY KEY (i);
-- After a bulk load, as anyone would: hint bits and the visibility map set
-- now, not by the first reads (nor by autovacuum during the run).
VACUUM (ANALYZE) pairs;

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
echo

# Client-side overhead of each call, in ms, one line per call: the wall time
# from the end of one call to the end of the next, in one statement and one
# warmed session (its connection to the service is open), less the
# emulator's own time for that call as its log gives it.  $1 names the
# calls (their MerchantBizId prefix), $2 is the table holding the pair (a, b)
# and $3 the call, a FROM item that may use p.a, p.b and the call's id, id.
call_overheads() {
	local prefix=$1 pair=$2 call=$3 n=$4
	q >"$FC_WORK/$prefix.ends" <<SQL
\o /dev/null
SELECT 1 FROM $pair AS p, (SELECT '${prefix}warm' AS id) AS id, LATERAL $call AS r;
\o
SELECT i, extract(epoch FROM clock_timestamp())
FROM $pair AS p, generate_series(0, $n) AS i, LATERAL (SELECT '$prefix' || i AS id) AS id,
	 LATERAL $call AS r;
SQL
	grep "MerchantBizId=$prefix[0-9]* " "$emulator_log" |
		sed -n "s/.*MerchantBizId=$prefix\([0-9]*\) .* \([0-9.]*\)ms UserAgent=[^ ]*\$/\1 \2/p" >"$FC_WORK/$prefix.emulator"
	awk -F'[| ]' 'NR == FNR { emulator[$1] = $2; next }
		{ end[$1] = $2 }
		END { for (i = 1; (i in end) && (i - 1 in end); i++)
				  if (i in emulator) printf "%.3f %.3f\n", (end[i] - end[i - 1]) * 1000 - emulator[i], (end[i] - end[i - 1]) * 1000 }' \
		"$FC_WORK/$prefix.emulator" "$FC_WORK/$prefix.ends"
}

# Median, mean and 90th percentile of column 1, mean of column 2, and count.
summarize() {
	sort -n | awk '{ v[NR] = $1; s += $1; w += $2 }
		END { if (NR) printf "%.2f %.2f %.2f %.1f %d\n", v[int((NR + 1) / 2)], s / NR, v[int(NR * 0.9 + 0.5)], w / NR, NR; else print "nan nan nan nan 0" }'
}

if [[ $PARTS == *1* ]]; then
# 1. One call at a time: two ~500 kB JPEGs, the same in the documented
# "(compare(...)).*" form (eight evaluations, one call), then two ~250 kB JPEGs.
ext="facecompare.compare(p.a, p.b, id.id)"
read -r big_median big_mean big_p90 big_wall big_n < <(call_overheads single big "$ext" "$SINGLE_CALLS" | summarize)
read -r star_median star_mean star_p90 star_wall star_n < <(call_overheads star big \
	"(SELECT (facecompare.compare(p.a, p.b, id.id)).*)" "$SINGLE_CALLS" | summarize)
read -r half_median half_mean half_p90 half_wall half_n < <(call_overheads half half "$ext" "$SINGLE_CALLS" | summarize)
read -r pl_median pl_mean pl_p90 pl_wall pl_n < <(call_overheads plpgsql big \
	"(SELECT plpgsql_compare(p.a, p.b, id.id, '$endpoint', '$FC_KEY_ID', '$FC_KEY_SECRET') AS answer)" \
	"$PLPGSQL_CALLS" | summarize)
answers=$(grep "MerchantBizId=plpgsql[0-9]" "$emulator_log" | awk '{ print $(NF - 2) }' | sort | uniq -c | tr -s ' ')

line() {
	printf "   %-42s %6.1f ms per call (%d calls); client side: median %5.2f ms, mean %5.2f ms, 90th percentile %5.2f ms\n" "$@"
}
echo "1. single calls; client side = each call's wall time less the emulator's own time for it"
line "compare(), two ~500 kB JPEGs ($(stat -c %s "$FC_WORK/fixtures/big-a.jpg") + $(stat -c %s "$FC_WORK/fixtures/big-b.jpg") B):" \
	"$big_wall" "$big_n" "$big_median" "$big_mean" "$big_p90"
line "the same, as SELECT (compare(...)).*:" "$star_wall" "$star_n" "$star_median" "$star_mean" "$star_p90"
line "compare(), two ~250 kB JPEGs ($(stat -c %s "$FC_WORK/fixtures/half-a.jpg") + $(stat -c %s "$FC_WORK/fixtures/half-b.jpg") B):" \
	"$half_wall" "$half_n" "$half_median" "$half_mean" "$half_p90"
line "PL/pgSQL + pgcrypto + curl, ~500 kB JPEGs:" "$pl_wall" "$pl_n" "$pl_median" "$pl_mean" "$pl_p90"
echo "   (the PL/pgSQL calls' answers:$answers)"
awk -v m="$big_median" -v h="$half_median" -v pm="$pl_median" 'BEGIN {
	printf "   target: client-side overhead <= 2 ms (median), two ~500 kB JPEGs: %s (%.2f ms); a 500 kB pair (two ~250 kB): %s (%.2f ms)\n",
		(m <= 2) ? "met" : "NOT met", m, (h <= 2) ? "met" : "NOT met", h;
	printf "   target: at least 5x less than PL/pgSQL (medians, ~500 kB JPEGs): %s (%.1fx)\n\n",
		(pm >= 5 * m) ? "met" : "NOT met", pm / m;
}'
fi

if [[ $PARTS == *2* ]]; then
# 2. Many pairs, with the account limit set below what the emulator allows.
bench_set_max_qps "$MAX_QPS"
ideal=$(bench_ideal "$MAX_QPS" "$CONCURRENCY" "$LATENCY_MS")

t0=$(now)
q -c "SELECT count(*) FROM pairs, LATERAL facecompare.compare(pairs.a, pairs.b, 'row' || i) AS r
	  WHERE i <= $ROW_PAIRS AND r.passed" >/dev/null
t1=$(now)
row_rate=$(echo "$ROW_PAIRS / ($t1 - $t0)" | bc -l)

read -r batch_rate passed < <(bench_compare_many pairs batch)

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
bench_set_max_qps 0
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
fi
