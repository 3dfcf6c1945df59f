#!/usr/bin/env bash
# Circuit breaker benchmark.  The emulator answers Forbidden.AccountAccessDenied
# to everything (its outage control); 1,000 requests are queued for the
# worker and 4 sessions keep calling compare().  Counts, from the emulator's
# log, how many requests reach it per cool-down; then the emulator is fixed
# and every queued request must end done, each in one attempt.
# Prints its figures and whether each target is met.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$FC_ROOT"

REQUESTS=${FC_BENCH_REQUESTS:-1000}
COOLDOWN_S=${FC_BENCH_COOLDOWN_S:-2}
OUTAGE_S=${FC_BENCH_OUTAGE_S:-10}
CONCURRENCY=${FC_BENCH_CONCURRENCY:-8}
SESSIONS=4
LATENCY_MS=50

trap fc_cleanup EXIT
fc_workdir
fc_build_and_install >/dev/null
fc_start_emulator bench --latency-ms "$LATENCY_MS"
bench_cluster \
	"facecompare.worker_database = 'postgres'" \
	"facecompare.max_concurrency = $CONCURRENCY" \
	"facecompare.breaker_cooldown = '${COOLDOWN_S}s'"

refused() { grep -c 'POST / .* Forbidden.AccountAccessDenied' "$EMULATOR_LOG" || true; }

q <<SQL
CREATE EXTENSION facecompare;
CREATE TABLE photo AS SELECT pg_read_binary_file('$FC_WORK/fixtures/person-a.jpg') AS a,
							 pg_read_binary_file('$FC_WORK/fixtures/person-a.png') AS b;
-- One session's calls for a while: how many, how many refused, ms per call.
CREATE FUNCTION keep_calling(prefix text, seconds float8, OUT calls int, OUT refused int, OUT ms_per_call float8)
LANGUAGE plpgsql AS \$\$
DECLARE
	src bytea := (SELECT a FROM photo);
	tgt bytea := (SELECT b FROM photo);
	t0 timestamptz := clock_timestamp();
	code text;
BEGIN
	calls := 0;
	refused := 0;
	SET LOCAL facecompare.raise_on_error = off;
	WHILE clock_timestamp() < t0 + make_interval(secs => seconds) LOOP
		calls := calls + 1;
		SELECT r.error_code INTO code FROM facecompare.compare(src, tgt, prefix || calls) AS r;
		IF code = 'Forbidden.AccountAccessDenied' THEN
			refused := refused + 1;
		END IF;
	END LOOP;
	ms_per_call := extract(epoch FROM clock_timestamp() - t0) * 1000 / calls;
END
\$\$;
SQL

echo "facecompare breaker benchmark: $REQUESTS queued requests, $SESSIONS sessions calling, cool-down ${COOLDOWN_S} s, outage ${OUTAGE_S} s"
curl -s -X PUT "$endpoint/emulator/outage?code=Forbidden.AccountAccessDenied" >/dev/null
t0=$(date +%s.%N)
q -c "SELECT count(facecompare.enqueue(a, b, 'benchQ' || i)) FROM photo, generate_series(1, $REQUESTS) i" >/dev/null
# Each session calls compare() in a loop for the outage, every call refused.
pids=()
for s in $(seq $SESSIONS); do
	q -c "SELECT calls || '|' || refused || '|' || round(ms_per_call::numeric, 3) FROM keep_calling('benchS${s}x', $OUTAGE_S)" \
		>"$FC_WORK/session$s.out" &
	pids+=($!)
done
# Not a bare wait: the emulator runs in the background too.
wait "${pids[@]}"
t1=$(date +%s.%N)
during=$(refused)
pending=$(q -c "SELECT count(*) FROM facecompare.request WHERE status = 'pending' AND attempts = 0")
failed=$(q -c "SELECT count(*) FROM facecompare.request WHERE status = 'failed'")
state=$(q -c "SELECT state || ' trips=' || trips || ' probes=' || probes FROM facecompare.stats_breakers")
session_calls=$(cat "$FC_WORK"/session*.out | awk -F'|' '{ n += $1; r += $2; ms += $3 } END { printf "%d calls, %d refused, %.3f ms per call", n, r, ms / NR }')

curl -s -X DELETE "$endpoint/emulator/outage" >/dev/null
t2=$(date +%s.%N)
until [ "$(q -c "SELECT count(*) FROM facecompare.request WHERE status IN ('pending', 'running')")" = 0 ]; do
	sleep 0.2
	if [ "$(echo "$(date +%s.%N) - $t2 > 300" | bc)" = 1 ]; then break; fi
done
t3=$(date +%s.%N)
done_count=$(q -c "SELECT count(*) FROM facecompare.request WHERE status = 'done'")
max_attempts=$(q -c "SELECT max(attempts) FROM facecompare.request")
stats=$(q -c "SELECT 'calls=' || calls || ' requests=' || requests || ' breaker_refused=' || breaker_refused FROM facecompare.stats")

awk -v during="$during" -v outage="$(echo "$t1 - $t0" | bc)" -v cooldown="$COOLDOWN_S" \
	-v pending="$pending" -v failed="$failed" -v req="$REQUESTS" -v state="$state" \
	-v sessions="$session_calls" -v drain="$(echo "$t3 - $t2" | bc)" -v done_count="$done_count" \
	-v max_attempts="$max_attempts" -v stats="$stats" -v conc="$CONCURRENCY" 'BEGIN {
	cooldowns = outage / cooldown;
	printf "   during the outage (%.1f s = %.1f cool-downs): %d requests reached the emulator = %.1f per cool-down\n", outage, cooldowns, during, during / cooldowns;
	printf "   (the first trip lets through what was in flight: at most max_concurrency %d + %d sessions; then one probe per cool-down)\n", conc, 4;
	printf "   sessions: %s\n", sessions;
	printf "   queue at the end of the outage: %d of %d pending with 0 attempts, %d failed; breaker %s\n", pending, req, failed, state;
	printf "   after the fix: %d of %d done in %.1f s, most attempts of any request: %d\n", done_count, req, drain, max_attempts;
	printf "   stats: %s\n", stats;
	printf "   target: at most a handful (<= 5) per cool-down after the first: %s; every queued request done: %s; none failed: %s\n",
		(during - conc - 4) / (cooldowns - 1) <= 5 ? "met" : "NOT met",
		done_count == req ? "met" : "NOT met", failed == 0 ? "met" : "NOT met";
}'
