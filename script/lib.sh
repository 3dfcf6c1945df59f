# Shared by script/test and script/demo: a scratch PostgreSQL cluster and the
# emulator, both on this machine only, both torn down by fc_cleanup.
# shellcheck shell=bash

FC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)
EMULATOR="$FC_ROOT/test/emulator/facecompare-emulator"

# Test-only credentials the emulator is started with.
FC_KEY_ID=emulator-key-id
FC_KEY_SECRET=emulator-key-secret

FC_PIDS=()
FC_CLUSTERS=()

log() { printf '==> %s\n' "$*"; }

# PostgreSQL refuses to run as root: run server programs as postgres then.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A scratch directory the server's OS user can use.
fc_workdir() {
	FC_WORK=$(mktemp -d "${TMPDIR:-/tmp}/facecompare.XXXXXX")
	chmod 755 "$FC_WORK"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$FC_WORK"
	# Fixtures copied where the server may read them with pg_read_binary_file.
	cp -r "$FC_ROOT/test/fixtures" "$FC_WORK/fixtures"
	chmod -R a+rX "$FC_WORK/fixtures"
}

fc_build_and_install() {
	local sudo=
	# A server in script/build-postgres's cache is the user's own: no sudo.
	[ "$(id -u)" -eq 0 ] || [ -w "$("$PG_CONFIG" --pkglibdir)" ] || sudo=sudo
	log "building the extension and the emulator"
	make -s -C "$FC_ROOT" PG_CONFIG="$PG_CONFIG" FC_WERROR=1 all emulator
	log "installing the extension into $("$PG_CONFIG" --pkglibdir)"
	$sudo make -s -C "$FC_ROOT" PG_CONFIG="$PG_CONFIG" install
}

# fc_start_emulator NAME [options...]: start it on a free port and wait
# until it listens; sets EMULATOR_PORT and EMULATOR_LOG (its request log).
fc_start_emulator() {
	local name=$1
	shift
	local portfile="$FC_WORK/$name.port"
	"$EMULATOR" --port 0 --port-file "$portfile" \
		--access-key-id "$FC_KEY_ID" --access-key-secret "$FC_KEY_SECRET" \
		--static-dir "$FC_WORK/fixtures" "$@" \
		>"$FC_WORK/$name.emulator.out" 2>"$FC_WORK/$name.emulator.log" &
	FC_PIDS+=($!)
	for _ in $(seq 100); do
		[ -s "$portfile" ] && break
		sleep 0.1
	done
	if [ ! -s "$portfile" ]; then
		cat "$FC_WORK/$name.emulator.log" >&2
		echo "the emulator $name did not start" >&2
		return 1
	fi
	EMULATOR_PORT=$(cat "$portfile")
	EMULATOR_LOG="$FC_WORK/$name.emulator.log"
}

# fc_start_cluster NAME PORT [postgresql.conf lines...]: initdb and start.
fc_start_cluster() {
	local name=$1 port=$2
	shift 2
	local data="$FC_WORK/$name"
	as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$FC_WORK/$name-initdb.log"
	{
		echo "listen_addresses = ''"
		echo "port = $port"
		echo "unix_socket_directories = '$FC_WORK'"
		echo "fsync = off"
		echo "shared_preload_libraries = 'facecompare'"
		printf '%s\n' "$@"
	} >>"$data/postgresql.conf"
	if [ -n "${FC_VALGRIND:-}" ]; then
		# Every backend under memcheck, one report per process.
		as_pg valgrind --quiet --leak-check=full --show-leak-kinds=definite \
			--errors-for-leak-kinds=definite --num-callers=40 --trace-children=no \
			--suppressions="$FC_ROOT/test/valgrind/postgres.supp" \
			--log-file="$FC_WORK/valgrind.%p.log" \
			"$PG_BINDIR/postgres" -D "$data" >"$FC_WORK/$name.log" 2>&1 &
		for _ in $(seq 600); do
			"$PG_BINDIR/pg_isready" -q -h "$FC_WORK" -p "$port" && break
			sleep 0.2
		done
	else
		as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$FC_WORK/$name.log" -w -s start
	fi
	FC_CLUSTERS+=("$data")
	export PGHOST="$FC_WORK" PGPORT="$port" PGUSER=postgres
}

# fc_run_tap: run test/t/*.pl (PostgreSQL's TAP modules) as the server's OS
# user, in a scratch copy it may write to; prints the TAP stream.
# FC_TAP_FILES (say "t/003_queue.pl") runs only those, while working on them.
fc_run_tap() {
	local pgxs_dir
	pgxs_dir=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
	rm -rf "$FC_WORK/tap"
	mkdir -p "$FC_WORK/tap"
	cp -r "$FC_ROOT/test/t" "$FC_WORK/tap/t"
	cp -r "$FC_ROOT/test/perl" "$FC_WORK/tap/perl"
	[ "$(id -u)" -ne 0 ] || chown -R postgres: "$FC_WORK/tap"
	(cd "$FC_WORK/tap" && as_pg env PATH="$PG_BINDIR:$PATH" TESTDIR="$FC_WORK/tap" \
		PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" \
		FC_ROOT="$FC_ROOT" FC_EMULATOR="$EMULATOR" FC_FIXTURES="$FC_WORK/fixtures" \
		FC_UPGRADE_FROM="${FC_UPGRADE_FROM:-}" \
		prove -v -I "$pgxs_dir/src/test/perl" -I perl ${FC_TAP_FILES:-t/*.pl})
}

# fc_start_regress_env: the cluster the regression suite runs against, set
# up as `make installcheck` wants a user's server; make installcheck itself
# starts the emulators and points the sessions at them (test/regress/with-emulators).
fc_start_regress_env() {
	# Credentials come from the settings, never from the caller's environment.
	unset ALIBABA_CLOUD_ACCESS_KEY_ID ALIBABA_CLOUD_ACCESS_KEY_SECRET ALIBABA_CLOUD_SECURITY_TOKEN
	local conf
	mapfile -t conf < <(grep -Ev '^[[:space:]]*(#|$)' "$FC_ROOT/test/regress/server.conf")
	fc_start_cluster regress "$(fc_free_port)" "${conf[@]}" || return 1
	export FC_SERVER_LOG="$FC_WORK/regress.log"
}

fc_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fc_cleanup() {
	local data pid
	for data in "${FC_CLUSTERS[@]}"; do
		as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -s stop >/dev/null 2>&1 || true
	done
	for pid in "${FC_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${FC_WORK:-}" ] && [ -z "${FC_KEEP:-}" ]; then
		rm -rf "$FC_WORK"
	fi
}
