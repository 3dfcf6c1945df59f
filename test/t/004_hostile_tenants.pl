# The queue attacked by hostile tenants: a plain role, facecompare_user
# members that own a schema each, and a database owner that is no superuser.
# None of them may become superuser through the worker, stall the others,
# crash the server, make the worker hold unbounded memory, or see another
# tenant's requests.  Written against the 0.3.0 queue: the trigger copies the
# images at insert time (the worker never reads a user's table), bad photos
# are failed at once (22023), requests record enqueued_by and upload_relid,
# the views show each tenant its own, facecompare_admin sees everything, the
# worker's SQL is immune to search_path and has a lock_timeout, requests run
# independently, COMMIT PREPARED wakes the worker, and facecompare.timeout
# bounds a whole compare() call.
#
# Every wait is bounded, every check that may hit a broken server uses a psql
# that returns instead of dying, and each attack is a subtest that ends with
# "no 'terminated by signal' in the server log since it began".  They run in
# database postgres (1, 4, 6, 7, 13, 12), then the worker moves to database
# app (2), where 3 and 5 run; 5 is last, leaving its stalled request running.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;
use Time::HiRes qw(time usleep);

my $emulator = $ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $fixtures = $ENV{FC_FIXTURES};

my ($emu) = start_emulator('hostile');

my $node = facecompare_node('hostile', $emu, q{
facecompare.worker_database = 'postgres'
facecompare.max_concurrency = 8
facecompare.retry_delay = '20ms'
facecompare.worker_max_attempts = 3
facecompare.timeout = '20s'
max_prepared_transactions = 5
# As in production: a crash restarts every process, so the attacks after
# one still run (the log says "terminated by signal" all the same).
restart_after_crash = on
});
$node->start;

# run(sql, role => r, db => d, raw => 1): psql as role r (default the
# superuser) in database d; returns (exit code, stdout, stderr) and never
# dies, so a crashing server makes checks fail, not the script.  Errors are
# verbose ("ERROR:  22023: ...").  Unless raw, the session's search_path is
# pinned first: database app's search_path leads to its owner's traps, which
# the harness itself must not spring.  The default database is the one the
# worker serves: postgres, then app (attack 2 on).
my $db = 'postgres';

sub run
{
	my ($sql, %o) = @_;
	my ($out, $err, $timed_out) = ('', '', 0);
	my $prefix = "\\set VERBOSITY verbose\n";
	$prefix .= "SET search_path = pg_catalog, pg_temp;\n" unless $o{raw};
	my $rc = $node->psql($o{db} // $db, $prefix . $sql,
		stdout => \$out, stderr => \$err, timeout => $o{timeout} // 60, timed_out => \$timed_out,
		extra_params => [ $o{role} ? ('-U', $o{role}) : () ]);
	$err .= "\npsql timed out" if $timed_out;
	return ($rc, $out, $err);
}

# sql(...): run() that dies on error (caught by attack(), failing its subtest).
sub sql
{
	my ($sql, %o) = @_;
	my ($rc, $out, $err) = run($sql, %o);
	die sprintf("SQL failed (as %s in %s): %s\n%s\n", $o{role} // 'superuser', $o{db} // $db, $err, $sql)
	  if $rc != 0;
	return $out;
}

# Poll until the query returns 't' (or time runs out); true if it did.
# $waited: how long the last wait took.
my $waited;

sub wait_for
{
	my ($query, $seconds, %o) = @_;
	my $t0 = time;
	while (time < $t0 + $seconds)
	{
		my ($rc, $out) = run($query, %o);
		$waited = time - $t0;
		return 1 if $rc == 0 && $out eq 't';
		usleep(50_000);
	}
	$waited = time - $t0;
	return 0;
}

# "done 0.3 s after X", or "not done 3.0 s after X"
sub after
{
	my ($done, $what) = @_;
	return sprintf('%s %.1f s after %s', $done ? 'done' : 'NOT done', $waited, $what);
}

sub queue_idle
{
	my (%o) = @_;
	return wait_for(q{SELECT count(*) = 0 FROM facecompare.request WHERE status IN ('pending', 'running')}, 15, %o);
}

sub worker_pid
{
	my ($rc, $out) = run(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'facecompare worker'});
	return $rc == 0 && $out =~ /^(\d+)$/ ? $1 : undef;
}

sub vm_hwm_kb
{
	my ($pid) = @_;
	return undef unless $pid && open(my $fh, '<', "/proc/$pid/status");
	while (<$fh>) { return $1 if /^VmHWM:\s+(\d+)\s+kB/; }
	return undef;
}

# Restart the server with the worker serving database $name; stopped in
# $mode (fast, or immediate for a server in a crash loop, which a fast
# shutdown may wait out for a minute).
sub restart_serving
{
	my ($name, $mode) = @_;
	$node->stop($mode // 'fast', fail_ok => 1) or $node->stop('immediate', fail_ok => 1);
	$node->append_conf('postgresql.conf', "facecompare.worker_database = '$name'");
	$node->start;
}

# A tenant: a login role in facecompare_user owning schema <name>.
sub tenant
{
	my ($name, %o) = @_;
	sql("CREATE ROLE $name LOGIN IN ROLE facecompare_user; CREATE SCHEMA $name AUTHORIZATION $name;", %o);
}

# An upload table of a tenant's, with the trigger.
sub upload_table
{
	my ($table, %o) = @_;
	my ($schema) = split /\./, $table;
	my $columns = $o{columns} // 'id int PRIMARY KEY, selfie bytea, id_photo bytea';
	my $source = $o{source} // 'selfie';
	sql(qq{CREATE TABLE $table ($columns);
		   CREATE TRIGGER verify AFTER INSERT ON $table FOR EACH ROW
		   EXECUTE FUNCTION facecompare.verify_upload('$source', 'id_photo');}, role => $schema, db => $o{db});
}

# attack(name, code): a subtest; a die inside fails it instead of ending the
# script; it ends by checking the server log written since it began.
sub attack
{
	my ($name, $code) = @_;
	my $from = -s $node->logfile;
	subtest $name => sub {
		my $ok = eval { $code->(); 1 };
		fail("stopped early: $@") unless $ok;
		my @crashes = grep { /terminated by signal/ } split /\n/, slurp_file($node->logfile, $from);
		is(scalar(@crashes), 0, 'the server log has no "terminated by signal"')
		  or diag(join("\n", @crashes[ 0 .. ($#crashes < 2 ? $#crashes : 2) ]));
	};
}

sql(qq{
CREATE EXTENSION facecompare;
CREATE SCHEMA fixture;
CREATE TABLE fixture.photo AS
	SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a,
		   pg_read_binary_file('$fixtures/person-a.png') AS b,
		   pg_read_binary_file('$fixtures/blank.png') AS blank,
		   pg_read_binary_file('$fixtures/photos/phone-12mp-orient6.jpg') AS phone;
GRANT USAGE ON SCHEMA fixture TO PUBLIC;
GRANT SELECT ON fixture.photo TO PUBLIC;
});
ok(defined worker_pid(), 'the worker runs');

# The functions with which a tenant's code would, if it ever ran as a
# superuser, make the tenant one and say so in <schema>.seen.
sub traps
{
	my ($schema, $owner) = @_;
	return q{
CREATE TABLE SCHEMA.seen (who name, su boolean, via text);
GRANT INSERT ON SCHEMA.seen TO PUBLIC;
CREATE FUNCTION SCHEMA.pwn(via text) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO SCHEMA.seen SELECT r.rolname, r.rolsuper, via FROM pg_roles r WHERE r.rolname = current_user;
	IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
		EXECUTE 'ALTER ROLE OWNER SUPERUSER';
	END IF;
	RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION SCHEMA.pwn(text) TO PUBLIC;
-- Exact matches for what a worker's unqualified SQL would look up.
CREATE FUNCTION SCHEMA.status_eq(a facecompare.request_status, b facecompare.request_status)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM SCHEMA.pwn('= (request_status)'); RETURN pg_catalog.enum_eq(a, b); END $$;
CREATE OPERATOR SCHEMA.= (FUNCTION = SCHEMA.status_eq,
	LEFTARG = facecompare.request_status, RIGHTARG = facecompare.request_status);
CREATE FUNCTION SCHEMA.int8_eq(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM SCHEMA.pwn('= (bigint)'); RETURN pg_catalog.int8eq(a, b); END $$;
CREATE OPERATOR SCHEMA.= (FUNCTION = SCHEMA.int8_eq, LEFTARG = bigint, RIGHTARG = bigint);
CREATE FUNCTION SCHEMA.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN PERFORM SCHEMA.pwn('now()'); RETURN pg_catalog.now(); END $$;
} =~ s/SCHEMA/$schema/gr =~ s/OWNER/$owner/gr;
}

sub is_superuser
{
	my ($role, %o) = @_;
	return sql("SELECT rolsuper FROM pg_roles WHERE rolname = '$role'", %o);
}

# 1. A tenant's code changes the worker's session (a domain's check on the
# key, a row policy: both set search_path for the session), hoping the
# worker's later SQL then runs the tenant's operators as superuser.  The
# uploading session's own search_path leads there too (the trigger is
# SECURITY DEFINER).
attack('1. owner code cannot change the worker\'s session to run as superuser', sub {
	tenant('t1');
	sql(traps('t1', 't1') . q{
CREATE FUNCTION t1.poison(via text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 't1, pg_catalog', false);
	RETURN t1.pwn(via);
END $$;
CREATE DOMAIN t1.upload_key AS integer CHECK (VALUE IS NOT NULL AND t1.poison('domain check'));
}, role => 't1');
	upload_table('t1.upload', columns => 'id t1.upload_key PRIMARY KEY, selfie bytea, id_photo bytea');
	sql(q{
ALTER TABLE t1.upload ENABLE ROW LEVEL SECURITY;
ALTER TABLE t1.upload FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone ON t1.upload USING (t1.poison('row policy'));
}, role => 't1');
	sql(q{
SET search_path = t1, pg_catalog;
INSERT INTO t1.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 3) AS i;
SELECT facecompare.enqueue(p.a, p.b, 't1enqueue') FROM fixture.photo p;
}, role => 't1', raw => 1);
	ok(wait_for(q{SELECT count(*) = 4 FROM facecompare.request
				  WHERE (upload_table = 't1.upload' OR merchant_biz_id = 't1enqueue') AND status IN ('done', 'failed')}, 15),
		'the tenant\'s requests finish');
	is(sql(q{SELECT string_agg(status::text, ' ' ORDER BY id) FROM facecompare.request
			 WHERE upload_table = 't1.upload' OR merchant_biz_id = 't1enqueue'}),
		'done done done done', '... all done');
	# One more round of the worker's SQL after the tenant's code ran.
	sql(q{SELECT facecompare.enqueue(p.a, p.b, 'after1') FROM fixture.photo p});
	ok(wait_for(q{SELECT status = 'done' FROM facecompare.request WHERE merchant_biz_id = 'after1'}, 15),
		'the worker goes on');
	is(is_superuser('t1'), 'f', 'the tenant is not superuser');
	is(sql(q{SELECT count(*) FROM t1.seen WHERE su}), '0', 'none of the tenant\'s code ran as a superuser');
	diag('t1 code ran as a superuser via: ' . sql(q{SELECT string_agg(DISTINCT via, ', ') FROM t1.seen WHERE su}))
	  if sql(q{SELECT count(*) FROM t1.seen WHERE su}) ne '0';
});

# 4. Tenant A locks its own upload table and keeps it locked; tenant B's
# uploads still run.  A request that takes 2 s (its URL is slow) keeps the
# worker busy while A's uploads commit and A takes the lock.
attack('4. a tenant holding a lock on its table stalls nobody else', sub {
	tenant($_) for 'a4', 'b4';
	upload_table($_) for 'a4.upload', 'b4.upload';
	sql('CREATE ROLE plain4 LOGIN');
	for my $role ('a4', 'plain4')
	{
		for my $mode ('ACCESS SHARE', 'ACCESS EXCLUSIVE')
		{
			my ($rc, $out, $err) = run("BEGIN; LOCK TABLE facecompare.request IN $mode MODE; ROLLBACK;", role => $role);
			like($err, qr/ERROR:  42501/, "$role cannot LOCK TABLE facecompare.request IN $mode MODE (42501)");
		}
	}
	my ($rc, $out, $err) = run('BEGIN; LOCK TABLE facecompare.request_outcome IN ACCESS EXCLUSIVE MODE; ROLLBACK;', role => 'a4');
	like($err, qr/ERROR:  42501/, 'a4 cannot lock the queue through a view either (42501)');

	ok(queue_idle(), 'the queue is idle');
	sql(qq{SELECT facecompare.enqueue('$emu/static/person-a.jpg?delay_ms=2000', p.b, 'slow4') FROM fixture.photo p});
	sql(q{INSERT INTO a4.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 2) AS i}, role => 'a4');
	my $lock = $node->background_psql('postgres', extra_params => [ '-U', 'a4' ]);
	my $ok = eval {
		$lock->query_safe('BEGIN; LOCK TABLE a4.upload IN ACCESS EXCLUSIVE MODE;');
		sql(q{INSERT INTO b4.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 3) AS i}, role => 'b4');
		my $done = wait_for(q{SELECT count(*) = 3 FROM facecompare.request WHERE upload_table = 'b4.upload' AND status = 'done'}, 4);
		ok($done, 'B\'s 3 uploads are ' . after($done, 'their commit, while A holds ACCESS EXCLUSIVE on a4.upload'));
		diag('b4 requests: ' . sql(q{SELECT string_agg(status::text, ' ' ORDER BY id) FROM facecompare.request WHERE upload_table = 'b4.upload'})
			. '; the worker waits on: ' . sql(q{SELECT concat_ws(' ', wait_event_type, wait_event) FROM pg_stat_activity WHERE backend_type = 'facecompare worker'}))
		  unless $done;
		1;
	};
	my $error = $@;
	eval { $lock->query('ROLLBACK'); $lock->quit; };
	die $error unless $ok;
	ok(wait_for(q{SELECT count(*) = 3 FROM facecompare.request
				  WHERE (upload_table = 'a4.upload' OR merchant_biz_id = 'slow4') AND status IN ('done', 'failed')}, 15),
		'once A lets go, A\'s requests finish too');
});

# 6. Photos too big for the service (and other bad photos) are refused
# before anything is stored: enqueue() raises 22023; an upload's INSERT
# succeeds and its request is failed at once, holding no image bytes.  And
# the worker does not load a tenant's huge photos into its memory.  With
# facecompare.prepare_images = off (set by the tenant: as 0.3.0) the limit
# is the service's 786,432 bytes; with when_needed (the default) it is
# facecompare.max_image_bytes, and the worker reads each large original
# whole only at claim, one at a time, prepares it and drops it.
attack('6. photos over the limit are refused before they are stored', sub {
	tenant('t6');
	upload_table('t6.upload');
	upload_table('t6.upload_url', columns => 'id int PRIMARY KEY, selfie_url text, id_photo bytea', source => 'selfie_url');
	upload_table('t6.huge');
	my $big = q{('\xffd8ffe0'::bytea || decode(repeat('00', 786429), 'hex'))};     # 786,433 bytes
	my $at_limit = q{('\xffd8ffe0'::bytea || decode(repeat('00', 786428), 'hex'))}; # 786,432 bytes
	my @refused = (
		[ 'an image of 786,433 bytes', $big, 'p.b', 'source image is too large: 786433 bytes' ],
		[ 'an empty image', q{''::bytea}, 'p.b', 'source image is empty' ],
		[ 'bytes neither JPEG nor PNG', 'p.a', q{'\x00010203'::bytea}, 'target image is neither JPEG nor PNG' ],
		[ 'an ftp:// URL', q{'ftp://127.0.0.1/x.jpg'}, 'p.b', 'source image URL must use http or https' ]);
	for my $i (0 .. $#refused)
	{
		my ($what, $source, $target, $message) = @{ $refused[$i] };
		my ($rc, $out, $err) = run("SET facecompare.prepare_images = off; SELECT facecompare.enqueue($source, $target, 'refused6n$i') FROM fixture.photo p", role => 't6');
		like($err, qr/ERROR:  22023: \Q$message\E/, "enqueue() refuses $what with 22023");
	}
	my ($rc, $out, $err) = run("SET facecompare.prepare_images = off; SELECT facecompare.enqueue($at_limit, p.b, 'atlimit6') FROM fixture.photo p", role => 't6');
	is($rc, 0, 'enqueue() takes an image of exactly 786,432 bytes') or diag($err);

	# Each bad upload, in the inserting transaction itself: already failed.
	my $inserts = q{
SET facecompare.prepare_images = off;
BEGIN;
INSERT INTO t6.upload SELECT 1, BIG, p.b FROM fixture.photo p;
INSERT INTO t6.upload SELECT 2, NULL, p.b FROM fixture.photo p;
INSERT INTO t6.upload SELECT 3, ''::bytea, p.b FROM fixture.photo p;
INSERT INTO t6.upload SELECT 4, p.a, '\x00010203'::bytea FROM fixture.photo p;
INSERT INTO t6.upload_url SELECT 5, 'ftp://127.0.0.1/x.jpg', p.b FROM fixture.photo p;
SELECT concat_ws(' ', upload_key, status, error_sqlstate, error_message) FROM facecompare.request_outcome
WHERE upload_table IN ('t6.upload', 't6.upload_url') ORDER BY upload_key;
COMMIT;
} =~ s/BIG/$big/r;
	($rc, $out, $err) = run($inserts, role => 't6');
	is($rc, 0, 'the inserts of bad photos succeed') or diag($err);
	my @rows = split /\n/, $out;
	my @expected = (
		[ 1, 'a photo over 786,432 bytes', 'source image is too large: 786433 bytes' ],
		[ 2, 'a NULL photo', 'source image is NULL' ],
		[ 3, 'an empty photo', 'source image is empty' ],
		[ 4, 'a photo that is not JPEG or PNG', 'target image is neither JPEG nor PNG' ],
		[ 5, 'an ftp:// URL', 'source image URL must use http or https' ]);
	for my $i (0 .. $#expected)
	{
		my ($key, $what, $message) = @{ $expected[$i] };
		like($rows[$i] // '(no request)', qr/^$key failed 22023 \Q$message\E/,
			"upload $key, $what: failed 22023 at insert time, in the inserting transaction");
	}
	is(sql(q{SELECT count(*) FROM facecompare.request
			 WHERE upload_table IN ('t6.upload', 't6.upload_url') AND (source_image IS NOT NULL OR target_image IS NOT NULL)}),
		'0', 'no image bytes of a refused upload are stored');
	is(sql(q{SELECT count(*) FROM t6.upload}, role => 't6'), '4', 'the uploads themselves are kept');

	# 8 uploads of two 10 MB photos each, in one transaction.
	my $pid = worker_pid();
	my $before = vm_hwm_kb($pid);
	sql(q{
SET facecompare.prepare_images = off;
SET default_toast_compression = lz4;
INSERT INTO t6.huge
SELECT i, b.img, b.img FROM (SELECT '\xffd8ffe0'::bytea || decode(repeat('00', 10000000), 'hex') AS img) b,
	generate_series(1, 8) AS i;
}, role => 't6');
	ok(wait_for(q{SELECT count(*) = 8 FROM facecompare.request WHERE upload_table = 't6.huge' AND status = 'failed' AND error_sqlstate = '22023'}, 20),
		'8 uploads of 10 MB photos each end failed with 22023');
	my $after = vm_hwm_kb(worker_pid());
	ok(defined $before && defined $after && worker_pid() == $pid, 'the worker\'s VmHWM is known (same worker)');
	cmp_ok(($after // 0) - ($before // 0), '<', 64 * 1024,
		sprintf('the worker\'s VmHWM grows by %d kB (from %d kB), not by the 160 MB of photos',
			($after // 0) - ($before // 0), $before // 0));

	# With preparation: 8 uploads of two 10 MB phone photos each (a 12 MP
	# sideways selfie, padded after its end), queued as they are; the worker
	# reads, prepares and drops one original at a time, and each passes.
	# Measured as its private memory (RssAnon, sampled while it works):
	# VmHWM would count the shared buffers its TOAST reads touch.
	upload_table('t6.phone');
	$pid = worker_pid();
	my $rss_anon = sub {
		return undef unless open(my $fh, '<', "/proc/$pid/status");
		while (<$fh>) { return $1 if /^RssAnon:\s+(\d+)\s+kB/; }
		return undef;
	};
	my $base = $rss_anon->();
	sql(q{
SET default_toast_compression = lz4;
INSERT INTO t6.phone
SELECT i, b.img, b.img FROM (SELECT p.phone || decode(repeat('00', 10000000 - length(p.phone)), 'hex') AS img
	FROM fixture.photo p) b, generate_series(1, 8) AS i;
}, role => 't6');
	is(sql(q{SELECT count(*) || ' ' || string_agg(DISTINCT prepare_images, ',') FROM facecompare.request WHERE upload_table = 't6.phone'}),
		'8 when_needed', 'the 10 MB photos are queued as they are, with the caller\'s mode');
	my ($peak, $done, $until) = ($base // 0, 0, time + 90);
	while (!$done && time < $until)
	{
		my $now = $rss_anon->() // 0;
		$peak = $now if $now > $peak;
		$done = sql(q{SELECT count(*) = 8 FROM facecompare.request_outcome WHERE upload_table = 't6.phone' AND status = 'done' AND passed}) eq 't';
		usleep(20_000);
	}
	ok($done, '8 requests of two 10 MB photos each are prepared by the worker and pass');
	ok(defined $base && worker_pid() == $pid, 'the worker\'s RssAnon is known (same worker)');
	cmp_ok($peak - ($base // 0), '<', 64 * 1024,
		sprintf('preparing them, the worker\'s private memory peaks %d kB above its %d kB, not by the 160 MB of originals',
			$peak - ($base // 0), $base // 0));
	diag(sprintf('worker RssAnon peak while preparing 16 photos of 10 MB: +%d kB', $peak - ($base // 0)));
});

# 7. Tenants A and B each queue by trigger and by enqueue(); each sees its
# own requests only.  A role that may read A's upload table sees A's
# uploads' requests; a facecompare_admin member sees all.
attack('7. each tenant sees its own requests only', sub {
	tenant($_) for 'a7', 'b7';
	sql('CREATE ROLE auditor7 LOGIN IN ROLE facecompare_user; CREATE ROLE plain7 LOGIN;');
	upload_table($_) for 'a7.upload', 'b7.upload';
	sql(q{
INSERT INTO a7.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 3) AS i;
SELECT facecompare.enqueue(p.a, p.b, 'a7e1') FROM fixture.photo p;
SELECT facecompare.enqueue(p.blank, p.a, 'a7e2') FROM fixture.photo p;
GRANT USAGE ON SCHEMA a7 TO auditor7;
GRANT SELECT ON a7.upload TO auditor7;
}, role => 'a7');
	sql(q{
INSERT INTO b7.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 2) AS i;
SELECT facecompare.enqueue(p.a, p.b, 'b7e1') FROM fixture.photo p;
}, role => 'b7');
	ok(wait_for(q{SELECT count(*) = 8 FROM facecompare.request
				  WHERE (upload_table IN ('a7.upload', 'b7.upload') OR merchant_biz_id IN ('a7e1', 'a7e2', 'b7e1'))
				  AND status IN ('done', 'failed')}, 15),
		'the 8 requests of A and B finish');
	is(sql(q{SELECT string_agg(concat_ws(' ', coalesce(upload_table, merchant_biz_id), status, error_code), ', ' ORDER BY id)
			 FROM facecompare.request WHERE upload_table = 'a7.upload' OR merchant_biz_id LIKE 'a7e_'}),
		'a7.upload done, a7.upload done, a7.upload done, a7e1 done, a7e2 failed NoFaceDetected',
		'A has 4 done and 1 failed (no face)');

	my $mine = q{SELECT coalesce(string_agg(coalesce(upload_table, merchant_biz_id), ', ' ORDER BY id), 'none') FROM facecompare.};
	is(sql($mine . 'request_outcome', role => 'a7'), 'a7.upload, a7.upload, a7.upload, a7e1, a7e2',
		'A sees its 5 requests in request_outcome, and no one else\'s');
	is(sql($mine . 'finished_request', role => 'a7'), 'a7.upload, a7.upload, a7.upload, a7e1, a7e2',
		'... and in finished_request');
	is(sql(q{SELECT concat_ws(' ', sum(finished), sum(done), sum(failed)) FROM facecompare.daily_summary}, role => 'a7'),
		'5 4 1', '... daily_summary counts A\'s 5 finished (4 done, 1 failed) only');
	is(sql(q{SELECT sum(verdicts) FROM facecompare.score_distribution}, role => 'a7'), '4',
		'... score_distribution counts A\'s 4 verdicts only');
	is(sql(q{SELECT concat_ws(' ', sum(failed), string_agg(DISTINCT error_code, ',')) FROM facecompare.daily_errors}, role => 'a7'),
		'1 NoFaceDetected', '... daily_errors counts A\'s 1 failure only');
	is(sql($mine . 'request_outcome', role => 'b7'), 'b7.upload, b7.upload, b7e1',
		'B sees its 3 requests, and no one else\'s');
	is(sql(q{SELECT concat_ws(' ', sum(finished), sum(done), sum(failed)) FROM facecompare.daily_summary}, role => 'b7'),
		'3 3 0', '... and daily_summary counts B\'s only');
	is(sql($mine . 'request_outcome', role => 'auditor7'), 'a7.upload, a7.upload, a7.upload',
		'a role that may SELECT a7.upload sees its uploads\' requests, not A\'s enqueue()s');
	my ($rc, $out, $err) = run('SELECT count(*) FROM facecompare.request_outcome', role => 'plain7');
	like($err, qr/ERROR:  42501/, 'a plain role reads no outcomes (42501)');

	($rc, $out, $err) = run(q{SELECT string_agg(who, ', ' ORDER BY who) FROM (
			   SELECT DISTINCT concat_ws(' ', enqueued_by::regrole, upload_relid::regclass) AS who
			   FROM facecompare.request WHERE upload_table = 'a7.upload' OR merchant_biz_id LIKE 'a7e_') w});
	is($out, 'a7, a7 a7.upload', 'requests record enqueued_by (a7) and upload_relid (a7.upload)') or diag($err);

	($rc, $out, $err) = run('CREATE ROLE admin7 LOGIN IN ROLE facecompare_admin, facecompare_user');
	is($rc, 0, 'the extension created the role facecompare_admin') or diag($err);
  SKIP:
	{
		skip 'no role facecompare_admin', 2 if $rc != 0;
		is(sql(q{SELECT count(*) FROM facecompare.request_outcome}, role => 'admin7'),
			sql(q{SELECT count(*) FROM facecompare.request}), 'a facecompare_admin member sees every request');
		is(sql(q{SELECT sum(finished) FROM facecompare.daily_summary}, role => 'admin7'),
			sql(q{SELECT count(*) FROM facecompare.request WHERE status IN ('done', 'failed')}),
			'... and daily_summary counts them all');
	}
});

# 13. A prepared transaction that queued a request: COMMIT PREPARED wakes the
# worker (it has just run a round, so its idle poll is 10 s away).
attack('13. COMMIT PREPARED wakes the worker', sub {
	sql('CREATE ROLE t13 LOGIN IN ROLE facecompare_user');
	ok(queue_idle(), 'the queue is idle');
	sql(q{SELECT facecompare.enqueue(p.a, p.b, 'warm13') FROM fixture.photo p});
	ok(wait_for(q{SELECT status = 'done' FROM facecompare.request WHERE merchant_biz_id = 'warm13'}, 10), 'a request just ran');
	sql(q{BEGIN; SELECT facecompare.enqueue(p.a, p.b, 'prepared13') FROM fixture.photo p; PREPARE TRANSACTION 'fc13';},
		role => 't13');
	sql(q{COMMIT PREPARED 'fc13'}, role => 't13');
	my $done = wait_for(q{SELECT status = 'done' FROM facecompare.request WHERE merchant_biz_id = 'prepared13'}, 3);
	ok($done, 'the request is ' . after($done, 'COMMIT PREPARED'));
	wait_for(q{SELECT status = 'done' FROM facecompare.request WHERE merchant_biz_id = 'prepared13'}, 12);
});

# 12. facecompare.timeout is the deadline of a whole call: retries and their
# back-off included.
attack('12. facecompare.timeout bounds a whole compare() call', sub {
	my $t0 = time;
	my ($rc, $out, $err) = run(q{
SET facecompare.timeout = '2s';
SET facecompare.max_retries = 10;
SET facecompare.retry_delay = '200ms';
SET statement_timeout = '6s';
SELECT * FROM facecompare.compare((SELECT a FROM fixture.photo), (SELECT b FROM fixture.photo), 'EMUThrottlingApi12');
});
	my $took = time - $t0;
	isnt($rc, 0, 'a call throttled every time fails');
	unlike($err, qr/statement timeout/, '... by itself, not by statement_timeout');
	cmp_ok($took, '<', 2.4, sprintf('... within 2.4 s (%.2f s)', $took));
});

# 2. A database owner (no superuser) plants exact-match operators and
# functions in public, which it owns, and puts public first in the
# database's search_path; the worker serves that database.
attack('2. a database owner\'s public schema cannot hijack the worker\'s SQL', sub {
	sql('CREATE ROLE dbowner LOGIN IN ROLE facecompare_user; CREATE DATABASE app OWNER dbowner;');
	sql(qq{
CREATE EXTENSION facecompare;
CREATE SCHEMA fixture;
CREATE TABLE fixture.photo AS
	SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a, pg_read_binary_file('$fixtures/person-a.png') AS b;
GRANT USAGE ON SCHEMA fixture TO PUBLIC;
GRANT SELECT ON fixture.photo TO PUBLIC;
}, db => 'app');
	is(sql(q{SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'}, db => 'app'), 'pg_database_owner',
		'dbowner owns public (as pg_database_owner)');
	sql(traps('public', 'dbowner') . q{
CREATE TABLE public.upload (id int PRIMARY KEY, selfie bytea, id_photo bytea);
CREATE TRIGGER verify AFTER INSERT ON public.upload FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
ALTER DATABASE app SET search_path = public, pg_catalog;
}, role => 'dbowner', db => 'app');

	restart_serving('app');
	$db = 'app';
	ok(wait_for(q{SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'facecompare worker' AND datname = 'app')}, 15),
		'the worker serves database app');
	sql(q{SELECT facecompare.enqueue(p.a, p.b, 'app2n' || i) FROM fixture.photo p, generate_series(1, 3) AS i}, db => 'app');
	sql(q{INSERT INTO public.upload SELECT i, p.a, p.b FROM fixture.photo p, generate_series(1, 2) AS i},
		role => 'dbowner', db => 'app', raw => 1);
	ok(wait_for(q{SELECT count(*) = 5 FROM facecompare.request
				  WHERE (merchant_biz_id LIKE 'app2n_' OR upload_table = 'public.upload') AND status = 'done'}, 15, db => 'app'),
		'the 5 requests are done');
	sql(q{SELECT facecompare.enqueue(p.a, p.b, 'after2') FROM fixture.photo p}, db => 'app');
	ok(wait_for(q{SELECT status = 'done' FROM facecompare.request WHERE merchant_biz_id = 'after2'}, 15, db => 'app'),
		'the worker goes on');
	is(is_superuser('dbowner'), 'f', 'dbowner is not superuser');
	is(sql(q{SELECT count(*) FROM public.seen WHERE su}, db => 'app'), '0', 'none of dbowner\'s code ran as a superuser');
	diag('dbowner code ran as a superuser via: ' . sql(q{SELECT string_agg(DISTINCT via, ', ') FROM public.seen WHERE su}, db => 'app'))
	  if sql(q{SELECT count(*) FROM public.seen WHERE su}, db => 'app') ne '0';
});

# 3. The upload table changes under its requests: a column retyped or
# dropped or renamed in the inserting transaction, the table dropped after
# the commit.  The trigger copied the images, so nothing the worker does can
# depend on the table (today's worker reads it, and a column retyped to int
# is read as text: a crash, again at each restart).  In database app, which
# the worker serves now.
attack('3. an upload table changed under its requests crashes nothing', sub {
	tenant('t3');
	upload_table('t3.copy');
	upload_table('t3.copy_url', columns => 'id int PRIMARY KEY, selfie_url text, id_photo bytea', source => 'selfie_url');
	upload_table("t3.$_") for qw(dropped_column renamed_column retyped_key gone retyped);

	# What the trigger stores, seen inside the inserting transaction.
	my $url = "$emu/static/person-a.jpg";
	is(sql(qq{
BEGIN;
SET LOCAL ROLE t3;
INSERT INTO t3.copy SELECT 1, p.a, p.b FROM fixture.photo p;
INSERT INTO t3.copy_url SELECT 1, '$url', p.b FROM fixture.photo p;
RESET ROLE;
SELECT concat_ws(' ', r.upload_table, r.source_image IS NOT DISTINCT FROM p.a, r.target_image IS NOT DISTINCT FROM p.b,
				 coalesce(r.source_url, '-'))
FROM facecompare.request r, fixture.photo p WHERE r.upload_table IN ('t3.copy', 't3.copy_url') ORDER BY r.id;
ROLLBACK;
}), "t3.copy t t -\nt3.copy_url f t $url",
		'the trigger copies the images into the request: bytea into source_image and target_image, text into source_url');

	my @changes = (
		[ 'dropped_column', 'ALTER TABLE t3.dropped_column DROP COLUMN id_photo' ],
		[ 'renamed_column', 'ALTER TABLE t3.renamed_column RENAME COLUMN selfie TO something_else' ],
		[ 'retyped_key', 'ALTER TABLE t3.retyped_key ALTER COLUMN id TYPE text' ],
		[ 'retyped', 'ALTER TABLE t3.retyped ALTER COLUMN selfie TYPE int USING 1' ]);
	for my $change (@changes)
	{
		my ($table, $alter) = @$change;
		if ($table eq 'retyped')
		{
			# The crash of today's worker is the last thing queued.
			sql(q{INSERT INTO t3.gone SELECT 1, p.a, p.b FROM fixture.photo p; DROP TABLE t3.gone;}, role => 't3');
		}
		sql(qq{BEGIN; INSERT INTO t3.$table SELECT 1, p.a, p.b FROM fixture.photo p; $alter; COMMIT;}, role => 't3');
	}
	my $done = wait_for(q{SELECT count(*) = 5 FROM facecompare.request
						  WHERE upload_table LIKE 't3.%' AND status IN ('done', 'failed')}, 12);
	ok($done, 'every request of a changed or dropped upload table ends done or failed');
	my ($rc, $out, $err) = run(q{SELECT string_agg(concat_ws(' ', upload_table, status, 'attempts=' || attempts, error_sqlstate), ', ' ORDER BY id)
								 FROM facecompare.request WHERE upload_table LIKE 't3.%'});
	is($out, join(', ', map { "t3.$_ done attempts=1" } qw(dropped_column renamed_column retyped_key gone retyped)),
		'... each done at its first attempt (no crash loop), from the images copied at insert')
	  or diag($err);
	ok(wait_for(q{SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'facecompare worker')}, 10),
		'the worker is alive');
	unless ($done)
	{
		# A worker that crashes before its claim commits does so for ever:
		# end t3's requests while the worker serves another database.
		diag('ending a crash loop: failing t3\'s unfinished requests while the worker is elsewhere');
		restart_serving('postgres', 'immediate');
		run(q{UPDATE facecompare.request SET status = 'failed', finished_at = now(), error_sqlstate = 'XX000',
				  error_message = '004_hostile_tenants: crash loop ended by the test'
			  WHERE upload_table LIKE 't3.%' AND status IN ('pending', 'running')});
		restart_serving('app');
	}
});

# 5. One request whose answer stalls (half an answer, then nothing for
# 120 s; facecompare.timeout is 20 s) delays only itself.
attack('5. a stalled request does not hold up the ones queued with it', sub {
	ok(queue_idle(), 'the queue is idle');
	sql(q{
BEGIN;
SELECT facecompare.enqueue(p.a, p.b, 'EMUFaultStall5') FROM fixture.photo p;
SELECT facecompare.enqueue(p.a, p.b, 'quick5n' || i) FROM fixture.photo p, generate_series(1, 5) AS i;
COMMIT;
});
	my $done = wait_for(q{SELECT count(*) = 5 FROM facecompare.request WHERE merchant_biz_id LIKE 'quick5n_' AND status = 'done'}, 2.5);
	ok($done, 'the 5 requests queued with the stalled one are ' . after($done, 'their commit'));
	is(sql(q{SELECT status FROM facecompare.request WHERE merchant_biz_id = 'EMUFaultStall5'}), 'running',
		'... while the stalled one is still running');
});

$node->stop('fast', fail_ok => 1) or $node->stop('immediate', fail_ok => 1);
stop_emulators();
done_testing();
