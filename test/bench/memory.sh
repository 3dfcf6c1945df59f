#!/usr/bin/env bash
# Memory benchmark: N calls (default 100,000) in one session against the
# emulator with no latency.  Prints the backend's resident set size and the
# size of its memory contexts after every tenth of the calls: flat figures
# mean nothing leaks per call (libcurl, OpenSSL and cJSON included).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$FC_ROOT"

CALLS=${FC_BENCH_CALLS:-100000}
STEP=$((CALLS / 10))
trap fc_cleanup EXIT
fc_workdir
fc_build_and_install >/dev/null
fc_start_emulator bench --quiet
bench_cluster

{
	echo "CREATE EXTENSION facecompare;"
	echo "CREATE TABLE img AS SELECT pg_read_binary_file('$FC_WORK/fixtures/person-a.jpg') AS a;"
	echo "\\pset tuples_only on"
	echo "\\pset format unaligned"
	echo "\\timing off"
	# JIT would load LLVM once a statement's estimated cost is high enough:
	# some 60 MB of shared-library pages, the same with or without us.
	echo "SET jit = off;"
	for i in $(seq 0 10); do
		if [ "$i" -gt 0 ]; then
			echo "SELECT count(*) FILTER (WHERE (facecompare.compare(a, a, 'b${i}x' || n)).passed) FROM img, generate_series(1, $STEP) AS n \\g /dev/null"
		fi
		echo "SELECT format('%s calls  rss %s kB  anon %s kB  memory contexts %s kB  %s', $((i * STEP)),
			(regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmRSS:\\s+(\\d+)'))[1],
			(regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'RssAnon:\\s+(\\d+)'))[1],
			(SELECT sum(total_bytes)::bigint / 1024 FROM pg_backend_memory_contexts),
			to_char(clock_timestamp(), 'HH24:MI:SS.MS'));"
	done
} >"$FC_WORK/bench.sql"

echo "facecompare memory benchmark: $CALLS calls in one session, person-a.jpg (31 kB) against itself"
psql -X -q -d postgres -f "$FC_WORK/bench.sql" | tee "$FC_WORK/bench.out"
awk '/calls  rss/ { rss[++n] = $4; ctx[n] = $11 }
	END {
		printf "RSS after the first tenth: %d kB; at the end: %d kB; growth over the last nine tenths: %d kB (%.3f bytes per call)\n",
			rss[2], rss[n], rss[n] - rss[2], (rss[n] - rss[2]) * 1024 / (9 * '"$STEP"');
		printf "memory contexts after the first tenth: %d kB; at the end: %d kB\n", ctx[2], ctx[n];
	}' "$FC_WORK/bench.out"
