# Shared by the benchmarks that call the emulator (throughput.sh, rows.sh,
# prepare.sh, breaker.sh, overhead.sh, memory.sh): the cluster and emulator
# set-up, the ideal rate, and compare_many over a table of pairs.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../../script/lib.sh"

q() { psql -X -q -At -d postgres -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
# Throttling.Api answers to the calls whose MerchantBizId starts with $1.
throttled() { grep "MerchantBizId=$1" "$emulator_log" | grep -c "Throttling.Api" || true; }

# bench_start LATENCY_MS EMULATOR_QPS CONCURRENCY [postgresql.conf lines...]:
# the emulator answering LATENCY_MS late and allowing EMULATOR_QPS per key,
# and a cluster pointed at it with max_concurrency CONCURRENCY.  Call after
# fc_workdir and fc_build_and_install.  Sets endpoint and emulator_log.
bench_start() {
	local latency=$1 qps=$2 concurrency=$3
	shift 3
	fc_start_emulator bench --latency-ms "$latency" --qps "$qps"
	bench_cluster "facecompare.max_concurrency = $concurrency" "max_connections = 20" "$@"
}

# bench_cluster [postgresql.conf lines...]: a cluster pointed at the emulator
# started last, with the test key.  Sets endpoint and emulator_log.
bench_cluster() {
	endpoint="http://127.0.0.1:$EMULATOR_PORT"
	emulator_log=$EMULATOR_LOG
	fc_start_cluster bench "$(fc_free_port)" \
		"facecompare.endpoint = '$endpoint'" \
		"facecompare.access_key_id = '$FC_KEY_ID'" \
		"facecompare.access_key_secret = '$FC_KEY_SECRET'" "$@"
}

# bench_start_big_pairs LATENCY_MS EMULATOR_QPS CONCURRENCY: build, the JPEG
# pairs of make-big-pair.py in $FC_WORK/fixtures, then bench_start.
bench_start_big_pairs() {
	trap fc_cleanup EXIT
	fc_workdir
	fc_build_and_install >/dev/null
	/usr/bin/python3 test/bench/make-big-pair.py "$FC_WORK/fixtures" >/dev/null
	chmod a+r "$FC_WORK"/fixtures/*.jpg
	bench_start "$@"
}

bench_set_max_qps() {
	q -c "ALTER SYSTEM SET facecompare.max_qps = $1" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}

# The best a client can do: min(max_qps, concurrency / latency), pairs/s.
bench_ideal() {
	local max_qps=$1 concurrency=$2 latency_ms=$3
	echo "r = $concurrency * 1000 / $latency_ms; if ($max_qps < r) $max_qps else r" | bc -l
}

# bench_compare_many TABLE PREFIX [BATCH]: compare_many over TABLE's pairs
# (i, a, b; i its primary key), BATCH pairs per call (an array holds at most
# 1 GB), in one session; prints "pairs/s passed".  Each call's three arrays
# come from one range scan of the primary key, already in order: an
# array_agg(... ORDER BY i) would sort BATCH detoasted photos, past work_mem
# to temporary files, once per array.
bench_compare_many() {
	local table=$1 prefix=$2 batch=${3:-0} t0 t1 n passed
	n=$(q -c "SELECT count(*) FROM $table")
	[ "$batch" -gt 0 ] || batch=$n
	t0=$(now)
	# One statement per call, its range in literals, so the planner sees the
	# range's size and takes the index's order (no Sort node).
	passed=$(for ((k = 0; k * batch < n; k++)); do
		echo "SELECT count(*) FILTER (WHERE passed) FROM (SELECT array_agg(s.a) AS a, array_agg(s.b) AS b,
			array_agg('$prefix' || s.i) AS ids FROM (SELECT i, a, b FROM $table
			WHERE i > $((k * batch)) AND i <= $(((k + 1) * batch)) ORDER BY i) AS s) AS c,
			facecompare.compare_many(c.a, c.b, c.ids);"
	done | q | awk '{ s += $1 } END { print s + 0 }')
	t1=$(now)
	echo "$(echo "$n / ($t1 - $t0)" | bc -l) $passed"
}
