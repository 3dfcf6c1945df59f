#!/usr/bin/env bash
# Client overhead of one call, as CPU time: N compare() calls in one session
# against the emulator with no latency, and the backend's CPU time (user +
# system, from /proc) per call.  CPU time, unlike wall time, barely moves
# with the load of a shared machine, so it shows a change of a few
# microseconds per call that wall-clock figures bury in their spread.
# Run it in two trees (say, before and after a change), in turns.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$FC_ROOT"

CALLS=${FC_BENCH_CALLS:-5000}
trap fc_cleanup EXIT
fc_workdir
fc_build_and_install >/dev/null
fc_start_emulator bench --quiet
bench_cluster

q -c "CREATE EXTENSION facecompare" -c "CREATE TABLE photo AS SELECT pg_read_binary_file('$FC_WORK/fixtures/person-a.jpg') AS a, pg_read_binary_file('$FC_WORK/fixtures/person-a.png') AS b"
# The backend's CPU time in clock ticks (utime + stime), read by the backend itself.
q <<SQL
\\o /dev/null
SELECT facecompare.compare(a, b, 'warm') FROM photo;
\\o
SELECT pg_backend_pid() AS pid \\gset
SELECT split_part(pg_read_file('/proc/' || :pid || '/stat'), ' ', 14)::bigint
	 + split_part(pg_read_file('/proc/' || :pid || '/stat'), ' ', 15)::bigint AS t0, clock_timestamp() AS w0 \\gset
\\o /dev/null
SELECT count(r.passed) FROM photo, generate_series(1, $CALLS) i, LATERAL facecompare.compare(a, b, 'o' || i) r;
\\o
SELECT format('%s calls: backend CPU %s us per call, wall %s us per call (%s)', $CALLS,
	round(((split_part(pg_read_file('/proc/' || :pid || '/stat'), ' ', 14)::bigint
		  + split_part(pg_read_file('/proc/' || :pid || '/stat'), ' ', 15)::bigint - :t0)
		 * 1e6 / $(getconf CLK_TCK) / $CALLS)::numeric, 1),
	round((extract(epoch FROM clock_timestamp() - :'w0'::timestamptz) * 1e6 / $CALLS)::numeric, 1),
	(SELECT CASE WHEN extversion >= '0.4.0' AND EXISTS (SELECT FROM pg_proc WHERE proname = 'stats_counters')
				 THEN 'with statistics' ELSE 'without statistics' END FROM pg_extension WHERE extname = 'facecompare'));
SQL
