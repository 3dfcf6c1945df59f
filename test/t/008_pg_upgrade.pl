# pg_upgrade from PostgreSQL 15 to this server (18, 19...): a cluster with
# the extension, its settings (ALTER SYSTEM, ALTER DATABASE, ALTER ROLE) and
# a queue holding finished, pending and running requests comes through
# whole, and the new server's worker finishes what the old one left,
# including the request it was running when the old server stopped.
# FC_UPGRADE_FROM is the old server's install directory (its bin/ and lib/);
# script/test sets it to the first server it tests.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;
use Time::HiRes qw(time);

$ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $from = $ENV{FC_UPGRADE_FROM};
plan skip_all => 'FC_UPGRADE_FROM (the old server to upgrade from) is not set' unless $from;
my $fixtures = $ENV{FC_FIXTURES};

my ($fast) = start_emulator('fast');
my ($stuck) = start_emulator('stuck', '--latency-ms', '60000');

# node(name, install path or undef, endpoint): a cluster like
# facecompare_node()'s, its worker on 'postgres' one request at a time.
sub node
{
	my ($name, $install, $endpoint, %init) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name, $install ? (install_path => $install) : ());
	$node->init(%init);
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'facecompare'
facecompare.access_key_id = 'emulator-key-id'
facecompare.access_key_secret = 'emulator-key-secret'
facecompare.endpoint = '$endpoint'
facecompare.worker_database = 'postgres'
facecompare.max_concurrency = 1
facecompare.timeout = '120s'
});
	return $node;
}

my $old = node('old', $from, $fast);
my $probe = PostgreSQL::Test::Cluster->new('probe');
plan skip_all => sprintf('pg_upgrade goes from an older server: this one is %s, the old one %s',
	$probe->pg_version, $old->pg_version)
  unless $probe->pg_version > $old->pg_version;

# PostgreSQL 15.20 gives every column a pg_attver option that 18.6 does not
# know: pg_dump copies it and the restore fails on the first table, any
# table ("unrecognized parameter"). Until the new server knows it, strip it
# from the old cluster's own columns before upgrading, and say so.
$probe->init;
$probe->start;
my ($rc) = $probe->psql('postgres', 'CREATE TEMP TABLE t (a int); ALTER TABLE t ALTER COLUMN a SET (pg_attver = 1)');
my $strip_attver = $rc != 0;
$probe->stop;


# The old cluster: finished requests first, with the service answering.
$old->start;
$old->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE photo AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a,
							 pg_read_binary_file('$fixtures/person-a.png') AS b;
CREATE TABLE uploads (id bigint PRIMARY KEY, selfie bytea, id_photo bytea);
CREATE TRIGGER verify AFTER INSERT ON uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
SELECT facecompare.enqueue(a, b, 'done' || i) FROM photo, generate_series(1, 3) AS i;
SELECT facecompare.enqueue(pg_read_binary_file('$fixtures/blank.png'), a, 'noface') FROM photo;
INSERT INTO uploads SELECT 1, a, b FROM photo;
ALTER SYSTEM SET facecompare.worker_max_attempts = 4;
ALTER SYSTEM SET facecompare.retry_delay = '50ms';
ALTER DATABASE postgres SET facecompare.max_retries = 1;
CREATE ROLE app LOGIN;
ALTER ROLE app SET facecompare.raise_on_error = off;
GRANT facecompare_user TO app;
GRANT SELECT ON photo TO app;
SELECT pg_reload_conf();
});
ok(poll_query($old, q{SELECT count(*) = 5 FROM facecompare.request WHERE status IN ('done', 'failed')}),
	'old server: 5 requests finished');

# Then one running (the service no longer answers) and three pending behind it.
$old->append_conf('postgresql.conf', "facecompare.endpoint = '$stuck'\n");
$old->reload;
sleep 1;    # the worker reads the new endpoint before it is woken
$old->safe_psql('postgres', q{
SELECT facecompare.enqueue(a, b, 'left' || i) FROM photo, generate_series(1, 3) AS i;
INSERT INTO uploads SELECT 2, a, b FROM photo;
});
ok(poll_query($old, q{SELECT count(*) = 1 FROM facecompare.request WHERE status = 'running'}),
	'old server: one request running, waiting on the service');

my $queue = q{SELECT string_agg(concat_ws(' ', id, status, merchant_biz_id, upload_table, upload_key, attempts,
	transaction_id, passed, score, error_sqlstate, error_code, octet_length(source_image)), E'\n' ORDER BY id)
	FROM facecompare.request};
my $before = $old->safe_psql('postgres', $queue);
my $version = $old->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'facecompare'});
if ($strip_attver && $old->safe_psql('postgres', q{SELECT count(*) FROM pg_attribute WHERE attoptions::text LIKE '%pg_attver=%'}) > 0)
{
	diag(sprintf('the old server (%s) sets pg_attver column options the new one (%s) rejects: removed before pg_upgrade',
		$old->pg_version, $probe->pg_version));
	$old->safe_psql('postgres', q{
SET allow_system_table_mods = on;
UPDATE pg_catalog.pg_attribute
SET attoptions = (SELECT array_agg(o) FROM unnest(attoptions) AS o WHERE o NOT LIKE 'pg_attver=%')
WHERE attrelid >= 16384 AND attoptions::text LIKE '%pg_attver=%';
});
}
$old->stop('fast');
is($before =~ tr/\n//, 8, 'the old queue holds 9 requests') or diag($before);

# pg_upgrade into a new cluster configured the same way (checksums as the
# old one: 18's initdb turns them on by default).
my $new = node('new', undef, $fast, no_data_checksums => 1);
command_ok([ 'pg_upgrade', '--no-sync',
	'-b', $old->config_data('--bindir'), '-B', $new->config_data('--bindir'),
	'-d', $old->data_dir, '-D', $new->data_dir,
	'-s', $new->host, '-p', $old->port, '-P', $new->port ],
	sprintf('pg_upgrade from %s to %s', $old->pg_version, $new->pg_version));
# pg_upgrade leaves postgresql.auto.conf to the admin: copy it, as its manual says.
copy($old->data_dir . '/postgresql.auto.conf', $new->data_dir . '/postgresql.auto.conf')
  or die "copying postgresql.auto.conf: $!";

# Stopped workers first: the queue as the old server left it.
$new->append_conf('postgresql.conf', "facecompare.worker_database = ''\n");
$new->start;
is($new->safe_psql('postgres', $queue), $before, 'every request comes through as it was, the running one too');
is($new->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'facecompare'}), $version,
	"the extension is still $version");
is($new->safe_psql('postgres', 'SHOW facecompare.worker_max_attempts; SHOW facecompare.retry_delay'), "4\n50ms",
	'ALTER SYSTEM settings hold (postgresql.auto.conf copied)');
is($new->safe_psql('postgres', 'SHOW facecompare.max_retries'), '1', 'ALTER DATABASE settings come through');
is($new->safe_psql('postgres', 'SHOW facecompare.raise_on_error', extra_params => [ '-U', 'app' ]), 'off',
	'ALTER ROLE settings come through');
is($new->safe_psql('postgres', q{SELECT (facecompare.compare(a, b, 'afterUpgrade')).passed FROM photo}, extra_params => [ '-U', 'app' ]),
	't', 'a call works on the new server');

# Now with the worker: it recovers the running request and runs all four left.
$new->append_conf('postgresql.conf', "facecompare.worker_database = 'postgres'\n");
$new->restart;
ok(poll_query($new, q{SELECT count(*) = 0 FROM facecompare.request WHERE status IN ('pending', 'running')}),
	'the new worker finishes every pending request');
is($new->safe_psql('postgres', q{SELECT string_agg(concat_ws(' ', CASE WHEN upload_key = '2' THEN 'upload2' ELSE merchant_biz_id END,
	status, attempts), E'\n' ORDER BY id) FROM facecompare.request WHERE merchant_biz_id LIKE 'left%' OR upload_key = '2'}),
	join("\n", 'left1 done 2', 'left2 done 1', 'left3 done 1', 'upload2 done 1'),
	'the request running at the stop ran again (attempt 2), the pending ones once');
my @before = split /\n/, $before;
is($new->safe_psql('postgres', "$queue WHERE id <= 5"), join("\n", @before[0 .. 4]),
	'the 5 requests finished before the upgrade are unchanged');
like(slurp_file($new->logfile), qr/facecompare worker: 1 interrupted requests? queued again/,
	'the new worker says it queued the interrupted request again');
$new->stop;
done_testing();
