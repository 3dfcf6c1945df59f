# Sourced by the throughput benchmarks (throughput.sh, rows.sh): the
# emulator answering after LATENCY_MS within --qps EMULATOR_QPS, a cluster
# pointed at it with max_concurrency CONCURRENCY, the JPEG pairs of
# make-big-pair.py, and the QPS bound a batch can reach.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../../script/lib.sh"
cd "$FC_ROOT"

LATENCY_MS=${LATENCY_MS:-150}
EMULATOR_QPS=${FC_BENCH_EMULATOR_QPS:-50}
MAX_QPS=${FC_BENCH_MAX_QPS:-40}
CONCURRENCY=${FC_BENCH_CONCURRENCY:-16}

q() { psql -X -q -At -d postgres -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

# bench_setup [postgresql.conf lines...]: build, fixtures, emulator, cluster.
bench_setup() {
	trap fc_cleanup EXIT
	fc_workdir
	fc_build_and_install >/dev/null
	/usr/bin/python3 test/bench/make-big-pair.py "$FC_WORK/fixtures" >/dev/null
	chmod a+r "$FC_WORK"/fixtures/*.jpg
	fc_start_emulator bench --latency-ms "$LATENCY_MS" --qps "$EMULATOR_QPS"
	endpoint="http://127.0.0.1:$EMULATOR_PORT"
	emulator_log=$EMULATOR_LOG
	fc_start_cluster bench "$(fc_free_port)" \
		"facecompare.endpoint = '$endpoint'" \
		"facecompare.access_key_id = '$FC_KEY_ID'" \
		"facecompare.access_key_secret = '$FC_KEY_SECRET'" \
		"facecompare.max_concurrency = $CONCURRENCY" \
		"max_connections = 20" "$@"
}

# bench_max_qps N: the account's limit for every session (0: none).
bench_max_qps() {
	q -c "ALTER SYSTEM SET facecompare.max_qps = $1" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}

# The most pairs per second a batch can get: min(max_qps, concurrency / latency).
bench_ideal() {
	echo "r = $CONCURRENCY * 1000 / $LATENCY_MS; if ($MAX_QPS < r) $MAX_QPS else r" | bc -l
}
