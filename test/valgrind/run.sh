#!/usr/bin/env bash
# Run the pg_regress suite with every server process under valgrind memcheck
# and report, per process, any error or definitely lost block.  Slow (about
# 20x): a check to run before a release, not part of script/test.
set -uo pipefail
. "$(dirname "$0")/../../script/lib.sh"
cd "$FC_ROOT"

trap fc_cleanup EXIT
fc_workdir
fc_build_and_install >/dev/null || exit 1
FC_VALGRIND=1 fc_start_regress_env || exit 1
log "pg_regress with every backend under valgrind (slow)"
make -s installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | grep -E '\.\.\. |tests? (passed|failed)'
# Let the last backends exit and write their reports.
sleep 5
reports=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$FC_WORK"/valgrind.*.log 2>/dev/null)
nlogs=$(ls "$FC_WORK"/valgrind.*.log | wc -l)
if [ -z "$reports" ]; then
	echo "valgrind: $nlogs server processes, no errors and no definitely lost blocks"
	exit 0
fi
echo "valgrind: reports from $(echo "$reports" | wc -l) of $nlogs server processes:"
for f in $reports; do
	echo "==== $f"
	head -120 "$f"
done
exit 1
