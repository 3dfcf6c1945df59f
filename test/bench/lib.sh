# Shared by the benchmarks that call the emulator (throughput.sh,
# prepare.sh): the cluster and emulator set-up, the ideal rate, and
# compare_many over a table of pairs.
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
	endpoint="http://127.0.0.1:$EMULATOR_PORT"
	emulator_log=$EMULATOR_LOG
	fc_start_cluster bench "$(fc_free_port)" \
		"facecompare.endpoint = '$endpoint'" \
		"facecompare.access_key_id = '$FC_KEY_ID'" \
		"facecompare.access_key_secret = '$FC_KEY_SECRET'" \
		"facecompare.max_concurrency = $concurrency" \
		"max_connections = 20" "$@"
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
# (i, a, b), BATCH pairs per call (an array holds at most 1 GB), in one
# session; prints "pairs/s passed".
bench_compare_many() {
	local table=$1 prefix=$2 batch=${3:-0} t0 t1 n passed
	n=$(q -c "SELECT count(*) FROM $table")
	[ "$batch" -gt 0 ] || batch=$n
	t0=$(now)
	passed=$(q -c "SELECT sum((SELECT count(*) FILTER (WHERE passed) FROM facecompare.compare_many(
			(SELECT array_agg(a ORDER BY i) FROM $table WHERE (i - 1) / $batch = k),
			(SELECT array_agg(b ORDER BY i) FROM $table WHERE (i - 1) / $batch = k),
			(SELECT array_agg('$prefix' || i ORDER BY i) FROM $table WHERE (i - 1) / $batch = k))))
		FROM generate_series(0, ($n - 1) / $batch) AS k")
	t1=$(now)
	echo "$(echo "$n / ($t1 - $t0)" | bc -l) $passed"
}
