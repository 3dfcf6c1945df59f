#!/usr/bin/env bash
# compare_rows benchmark: a whole table in bounded memory.  Each run is a
# fresh session (backend) against the emulator answering after 150 ms:
#  - compare_rows over FC_BENCH_SMALL_ROWS (100) and FC_BENCH_ROWS (10,000)
#    rows of a ~100 kB pair (row-a.jpg, row-b.jpg of make-big-pair.py),
#    every row reading the pair out of TOAST;
#  - compare_many over FC_BENCH_MANY_PAIRS (1,000) of the same pairs, for
#    comparison: it holds both arrays whole.
# Prints each run's backend peak RSS (VmHWM) and pairs per second, and
# whether the targets are met: the 10,000-row peak within 50 MB of the
# 100-row one, and at least 90% of the QPS bound.
set -euo pipefail
ROWS=${FC_BENCH_ROWS:-10000}
SMALL_ROWS=${FC_BENCH_SMALL_ROWS:-100}
MANY_PAIRS=${FC_BENCH_MANY_PAIRS:-1000}
# The account's limit below the emulator's, as in throughput.sh, but higher:
# 10,000 rows at 40 pairs/s would take four minutes.
LATENCY_MS=150
EMULATOR_QPS=${FC_BENCH_EMULATOR_QPS:-120}
MAX_QPS=${FC_BENCH_MAX_QPS:-100}
CONCURRENCY=${FC_BENCH_CONCURRENCY:-16}
. "$(dirname "$0")/lib.sh"
cd "$FC_ROOT"

bench_start_big_pairs "$LATENCY_MS" "$EMULATOR_QPS" "$CONCURRENCY"

q <<SQL
CREATE EXTENSION facecompare;
CREATE TABLE rowpair AS
SELECT pg_read_binary_file('$FC_WORK/fixtures/row-a.jpg') AS a,
	   pg_read_binary_file('$FC_WORK/fixtures/row-b.jpg') AS b;
SQL
bench_set_max_qps "$MAX_QPS"
ideal=$(bench_ideal "$MAX_QPS" "$CONCURRENCY" "$LATENCY_MS")

# run NAME SQL: run SQL (a count of passed pairs) in a fresh session; prints
# "seconds passed peak_rss_kB" for that backend.
run() {
	q <<SQL
SET jit = off;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
$2 \gset
SELECT format('%s %s %s', extract(epoch FROM clock_timestamp()) - :t0, :passed,
	(regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1]);
SQL
}
rows_sql() {
	echo "SELECT count(*) FILTER (WHERE passed) AS passed FROM facecompare.compare_rows(
		\$q\$SELECT i, p.a, p.b, '$1' || i FROM rowpair AS p, generate_series(1, $2) AS i\$q\$)"
}

read -r small_s small_passed small_peak < <(run small "$(rows_sql small "$SMALL_ROWS")")
read -r big_s big_passed big_peak < <(run big "$(rows_sql big "$ROWS")")
read -r many_s many_passed many_peak < <(run many "SELECT count(*) FILTER (WHERE passed) AS passed
	FROM facecompare.compare_many((SELECT array_agg(p.a) FROM rowpair AS p, generate_series(1, $MANY_PAIRS)),
								  (SELECT array_agg(p.b) FROM rowpair AS p, generate_series(1, $MANY_PAIRS)),
								  (SELECT array_agg('many' || i) FROM generate_series(1, $MANY_PAIRS) AS i))")

awk -v ss="$small_s" -v sp="$small_passed" -v sk="$small_peak" -v sn="$SMALL_ROWS" \
	-v bs="$big_s" -v bp="$big_passed" -v bk="$big_peak" -v bn="$ROWS" \
	-v ms="$many_s" -v mp="$many_passed" -v mk="$many_peak" -v mn="$MANY_PAIRS" \
	-v ideal="$ideal" -v qps="$MAX_QPS" -v eqps="$EMULATOR_QPS" -v conc="$CONCURRENCY" \
	-v a="$(stat -c %s "$FC_WORK/fixtures/row-a.jpg")" -v b="$(stat -c %s "$FC_WORK/fixtures/row-b.jpg")" 'BEGIN {
	printf "compare_rows benchmark: pairs of %d + %d B JPEGs, emulator latency 150 ms, max_qps %d, emulator --qps %d, max_concurrency %d: ideal %.1f pairs/s\n",
		a, b, qps, eqps, conc, ideal;
	printf "   compare_rows, %6d rows: peak RSS %7.1f MB, %6.1f s, %6.1f pairs/s (%d passed) = %.0f%% of ideal\n",
		sn, sk / 1024, ss, sn / ss, sp, 100 * sn / ss / ideal;
	printf "   compare_rows, %6d rows: peak RSS %7.1f MB, %6.1f s, %6.1f pairs/s (%d passed) = %.0f%% of ideal\n",
		bn, bk / 1024, bs, bn / bs, bp, 100 * bn / bs / ideal;
	printf "   compare_many, %6d pairs: peak RSS %7.1f MB, %6.1f s, %6.1f pairs/s (%d passed)\n",
		mn, mk / 1024, ms, mn / ms, mp;
	printf "   target: %d-row peak within 50 MB of the %d-row peak: %s (%+.1f MB)\n",
		bn, sn, (bk - sk <= 50 * 1024) ? "met" : "NOT met", (bk - sk) / 1024;
	printf "   target: compare_rows over %d rows >= 90%% of ideal: %s (%.0f%%)\n",
		bn, (bn / bs >= 0.9 * ideal) ? "met" : "NOT met", 100 * bn / bs / ideal;
}'
