# script/test across PostgreSQL majors. Sourced by script/test.
# shellcheck shell=bash
#
# The pure suites (unit, fuzz, sdk) use no server: they run once. Everything
# that touches a server (the extension's -Werror build and install, TAP,
# regress) runs once per major: first on $PG_CONFIG in this tree, then on each
# other major in a copy of the tree (PGXS builds in place), one after another.
#
#   script/test                 $PG_CONFIG's server, plus each major that is
#                               installed (/usr/lib/postgresql/N) or already
#                               built in script/build-postgres's cache; says
#                               which of 15 to 19 it skipped and why.
#   script/test --all-versions  also builds the missing ones (17, 18, 19) from
#                               Debian's source archive, in the background
#                               while the earlier majors' tests run; a major
#                               it cannot build counts as a failure.
#   FC_PG_VERSIONS="15 18"      the majors to try (default 15 16 17 18 19).

FC_ALL_MAJORS="15 16 17 18 19"
FC_VERSION_LINES=()
fc_build_all=

fc_major_of() {
	"$1" --version | sed -n 's/^PostgreSQL \([0-9][0-9]*\).*/\1/p'
}

# fc_versions_start ARGS...: read the options; with --all-versions start
# building the missing majors in the background.
fc_versions_start() {
	case "${1:-}" in
	--all-versions) fc_build_all=1 ;;
	'') ;;
	*) echo "usage: script/test [--all-versions]" >&2; exit 2 ;;
	esac
	[ -z "${FC_VERSION_CHILD:-}" ] || return 0
	FC_FIRST_MAJOR=$(fc_major_of "$PG_CONFIG")
	# test/t/008_pg_upgrade.pl upgrades from the first server to each later one.
	FC_UPGRADE_FROM=${FC_UPGRADE_FROM:-$(dirname "$("$PG_CONFIG" --bindir)")}
	export FC_UPGRADE_FROM
	FC_OTHER_MAJORS=()
	local m
	for m in ${FC_PG_VERSIONS:-$FC_ALL_MAJORS}; do
		[ "$m" = "$FC_FIRST_MAJOR" ] || FC_OTHER_MAJORS+=("$m")
	done
	# Only the server suites repeat: with FC_ONLY=unit|fuzz|sdk, nothing to do.
	case "${FC_ONLY:-}" in unit | fuzz | sdk) FC_OTHER_MAJORS=() ;; esac
	if [ -n "$fc_build_all" ] && [ ${#FC_OTHER_MAJORS[@]} -gt 0 ]; then
		local build=()
		for m in "${FC_OTHER_MAJORS[@]}"; do
			[ -n "$(fc_installed_pg_config "$m")" ] || [ "$m" -lt 17 ] || build+=("$m")
		done
		if [ ${#build[@]} -gt 0 ]; then
			log "building PostgreSQL ${build[*]} in the background (logs: $FC_WORK/build-N.log)"
			# One after another (2 cores); build-N.status says each is over.
			(
				for m in "${build[@]}"; do
					nice "$FC_ROOT/script/build-postgres" "$m" >/dev/null 2>"$FC_WORK/build-$m.log"
					echo $? >"$FC_WORK/build-$m.status"
				done
			) &
			FC_BUILDER=$!
		fi
	fi
}

# A Debian-installed server of that major, if any.
fc_installed_pg_config() {
	local c="/usr/lib/postgresql/$1/bin/pg_config"
	[ -x "$c" ] && [ -d "$("$c" --pkglibdir)" ] && [ -f "$(dirname "$("$c" --pgxs)")/../../src/test/regress/pg_regress" ] && echo "$c"
}

fc_version_line() {
	FC_VERSION_LINES+=("$(printf "    %-32s %s" "$1" "$2")")
}

# fc_versions_run: after this tree's run, each other major in turn.
fc_versions_run() {
	[ -z "${FC_VERSION_CHILD:-}" ] || return 0
	local m cfg why out ok bad tree
	for m in "${FC_OTHER_MAJORS[@]}"; do
		cfg=$(fc_installed_pg_config "$m")
		why=
		if [ -z "$cfg" ] && [ "$m" -ge 17 ]; then
			if [ -n "${FC_BUILDER:-}" ]; then
				while [ ! -f "$FC_WORK/build-$m.status" ] && kill -0 "$FC_BUILDER" 2>/dev/null; do
					sleep 5
				done
				cfg=$("$FC_ROOT/script/build-postgres" --check "$m" 2>/dev/null) ||
					why="could not be built: $(grep -m1 -E "could not|incomplete|did not build" "$FC_WORK/build-$m.log" | sed 's/^build-postgres: //')"
			else
				cfg=$("$FC_ROOT/script/build-postgres" --check "$m" 2>/dev/null) ||
					why="not installed and not built (script/test --all-versions builds it)"
			fi
		elif [ -z "$cfg" ]; then
			why="not installed (apt-get install postgresql-$m postgresql-server-dev-$m; no Debian suite here has $m)"
		fi
		if [ -n "$why" ]; then
			log "PostgreSQL $m: skipped, $why"
			if [ -n "$fc_build_all" ] && [ "$m" -ge 17 ] && [[ $why != *"could not download"* ]]; then
				fc_version_line "PostgreSQL $m" "0 passed, 1 failed ($why)"
				count 0 1
			else
				# A source the archive does not serve (the mirror answers 404)
				# is the network's, not the code's: said, not counted.
				fc_version_line "PostgreSQL $m" "skipped: $why"
			fi
			continue
		fi
		log "PostgreSQL $m ($("$cfg" --version)): extension build, TAP, regress"
		tree="$FC_WORK/tree-$m"
		mkdir -p "$tree"
		(cd "$FC_ROOT" && tar --exclude=./.git --exclude='./results' --exclude='./regression.*' -cf - .) | tar -xf - -C "$tree"
		rm -f "$tree"/src/*.o "$tree"/src/*.bc "$tree"/*.so
		out=$(cd "$tree" && FC_VERSION_CHILD=1 FC_SKIP_BOOTSTRAP=1 PG_CONFIG="$cfg" TMPDIR="$FC_WORK" script/test 2>&1)
		echo "$out" | sed '$d'
		ok=$(echo "$out" | sed -n '$s/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
		bad=$(echo "$out" | sed -n '$s/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
		[ -n "$ok" ] || { ok=0; bad=1; }
		fc_version_line "PostgreSQL $("$cfg" --version | awk '{ print $2 }')" "$ok passed, $bad failed"
		count "$ok" "$bad"
	done
	[ -z "${FC_BUILDER:-}" ] || wait "$FC_BUILDER" 2>/dev/null || true
}

fc_versions_summary() {
	[ -z "${FC_VERSION_CHILD:-}" ] || return 0
	echo
	echo "by PostgreSQL major (the pure suites, unit/fuzz/sdk, run once, with the first):"
	printf '%s\n' "${FC_VERSION_LINES[@]}"
}
