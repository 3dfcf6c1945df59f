# Every socket curl opens counts against max_files_per_process, as
# postgres_fdw's connections do: with a low limit, a batch that needs more
# sockets than the backend may hold fails with a clear 53000 instead of going
# over it, and the count stays exact through refused, aborted and cached
# connections (curl 7.88 to 8.1 close some without telling), so the same
# batches keep fitting and normal calls reuse their connections.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;

my $emulator = $ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $fixtures = $ENV{FC_FIXTURES};
# 100 ms per answer: every request of a batch asks for its connection before
# any answer frees one, so a batch of n needs n sockets.
my ($emu, $emu_log) = start_emulator('fds', '--latency-ms', '100');
my ($slow) = start_emulator('fds-slow', '--latency-ms', '30000');

# 100 leaves a backend about 85 fds, a third of them for external ones such
# as sockets: well under the 64 connections of max_concurrency 64.
my $node = PostgreSQL::Test::Cluster->new('file_descriptors');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'facecompare'
max_files_per_process = 100
facecompare.access_key_id = 'emulator-key-id'
facecompare.access_key_secret = 'emulator-key-secret'
facecompare.endpoint = '$emu'
facecompare.max_retries = 0
# tiny.jpg is sent as given (the service refuses it), not refused locally.
facecompare.prepare_images = off
});
$node->start;

# batch_fits(n): whether n requests at once get their sockets (reusing the
# connections cached by the last batch, if it did not fail).
# most_sockets(): the largest batch that fits, by bisection.
$node->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE img AS SELECT pg_read_binary_file('$fixtures/tiny.jpg') AS a,
	pg_read_binary_file('$fixtures/person-a.jpg') AS p;
CREATE FUNCTION batch_fits(n int) RETURNS bool LANGUAGE plpgsql AS \$\$
BEGIN
	PERFORM set_config('facecompare.max_concurrency', n::text, true);
	PERFORM count(*) FROM img, facecompare.compare_many(array_fill(a, ARRAY[n]), array_fill(a, ARRAY[n]));
	RETURN true;
EXCEPTION WHEN insufficient_resources THEN
	RETURN false;
END \$\$;
CREATE FUNCTION most_sockets() RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE
	fits int := 0;
	too_many int := 65;
	n int;
BEGIN
	WHILE too_many - fits > 1 LOOP
		n := (fits + too_many) / 2;
		IF batch_fits(n) THEN fits := n; ELSE too_many := n; END IF;
	END LOOP;
	RETURN fits;
END \$\$;
});

# 64 requests at once: the backend is refused a socket, and says so.
my ($ret, $out, $err) = $node->psql('postgres', q{\set VERBOSITY verbose
SET facecompare.max_concurrency = 64;
SELECT count(*) FROM img, facecompare.compare_many(array_fill(a, ARRAY[64]), array_fill(a, ARRAY[64]));});
like($err, qr/ERROR:  53000: could not connect to FaceCompare endpoint "\Q$emu\E": this backend has no file descriptor left/,
	'64 requests at once with max_files_per_process = 100: 53000, no file descriptor left');
like($err, qr/HINT:  Lower facecompare.max_concurrency or raise max_files_per_process/,
	'... with a hint saying what to change');

# Without the count all 64 would fit.
my $limit = $node->safe_psql('postgres', 'SELECT most_sockets()');
diag("max_files_per_process = 100: a batch of at most $limit requests gets its sockets");
cmp_ok($limit, '>=', 8, 'batches of the default max_concurrency fit');
cmp_ok($limit, '<', 64, '... and 64 requests at once do not');

# A new session's first batch one socket too big: were its wait set's epoll
# fd not taken before the sockets, they would all fit and epoll fail.
my $over = $limit + 1;
($ret, $out, $err) = $node->psql('postgres', qq{SET facecompare.max_concurrency = $over;
SELECT count(*) FROM img, facecompare.compare_many(array_fill(a, ARRAY[$over]), array_fill(a, ARRAY[$over]));});
like($err, qr/this backend has no file descriptor left/, "a new session's first batch of $over is refused a socket");

# The same limit after refused batches, batches that fit and leave their
# connections cached, and batches aborted mid-connect: a leaked count would
# lower it, one given back twice raise it.
is($node->safe_psql('postgres', qq{
SELECT batch_fits(64), batch_fits($limit), batch_fits($limit + 1), batch_fits(64), batch_fits($limit);
SELECT most_sockets();
}), "f|t|f|f|t\n$limit", 'the same limit after refused and cached batches');

# A refused batch leaves no connection: the slow batch needs all its own.
($ret, $out, $err) = $node->psql('postgres', qq{
SELECT batch_fits(64);
SET facecompare.endpoint = '$slow';
SET facecompare.max_concurrency = $limit;
SET statement_timeout = '300ms';
SELECT count(*) FROM img, facecompare.compare_many(array_fill(a, ARRAY[$limit]), array_fill(a, ARRAY[$limit]));
RESET statement_timeout;
RESET facecompare.endpoint;
SELECT most_sockets();
}, on_error_stop => 0);
like($err, qr/canceling statement due to statement timeout/, "a batch of $limit waiting on a slow service is cancelled");
is($out, "f\n$limit", '... and gives back every socket it held');

# Normal calls still work, over one reused connection.
is($node->safe_psql('postgres', q{
SELECT (facecompare.compare(p, p, 'fdsReuse1')).passed FROM img;
SELECT (facecompare.compare(p, p, 'fdsReuse2')).passed FROM img;
SELECT count(*) FILTER (WHERE passed) FROM img, facecompare.compare_many(array_fill(p, ARRAY[8]), array_fill(p, ARRAY[8]));
}), "t\nt\n8", 'single calls and a batch of 8 succeed');
my %port_of;
for my $line (split /\n/, slurp_file($emu_log))
{
	$port_of{$2} = $1 if $line =~ /127\.0\.0\.1:(\d+) POST \/ MerchantBizId=(fdsReuse\d)/;
}
ok($port_of{fdsReuse1} && $port_of{fdsReuse1} eq ($port_of{fdsReuse2} // ''),
	'... and reuse one connection');

$node->stop;
stop_emulators();
done_testing();
