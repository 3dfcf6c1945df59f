# A call waiting on a slow service ends within 200 ms of cancel,
# statement_timeout or facecompare.timeout; the backend then makes its next
# calls on a reused connection; even at DEBUG5 no request header, signature
# or secret reaches the log; credentials may come from the environment.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;
use Time::HiRes qw(time usleep);

my $emulator = $ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $fixtures = $ENV{FC_FIXTURES};
my ($slow) = start_emulator('slow', '--latency-ms', '30000');
my ($fast, $fast_log) = start_emulator('fast');

my $node = facecompare_node('interrupts', $slow);
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE img AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a;
});
my $call = q{SELECT facecompare.compare(a, a) FROM img};

# psql's own start-up is not part of the call: measure it to subtract it.
my $t0 = time;
$node->safe_psql('postgres', 'SELECT 1');
my $psql_overhead = time - $t0;

# statement_timeout: PostgreSQL's own error, within 200 ms of the deadline.
$t0 = time;
my ($ret, $out, $err) = $node->psql('postgres', "SET statement_timeout = '1s'; $call");
my $elapsed = time - $t0 - $psql_overhead;
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels the waiting call');
cmp_ok($elapsed, '<', 1.2, sprintf('... within 200 ms of its 1 s deadline (took %.3f s)', $elapsed));
diag(sprintf('statement_timeout 1 s: call ended after %.3f s', $elapsed));

# facecompare.timeout: our own error, naming the endpoint, just as promptly.
$t0 = time;
($ret, $out, $err) = $node->psql('postgres', "SET facecompare.timeout = '1s'; SET facecompare.max_retries = 0; $call");
$elapsed = time - $t0 - $psql_overhead;
like($err, qr/FaceCompare request to "\Q$slow\E" timed out/, 'facecompare.timeout ends the call, naming the endpoint');
cmp_ok($elapsed, '<', 1.2, sprintf('... within 200 ms of its 1 s deadline (took %.3f s)', $elapsed));
diag(sprintf('facecompare.timeout 1 s: call ended after %.3f s', $elapsed));

# pg_cancel_backend: a session waits on the slow service, another cancels it.
my ($stdout, $stderr) = ('', '');
my $session = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SET application_name = 'waiter'; $call",
	  '-c', "SET facecompare.endpoint = '$fast'; SELECT (facecompare.compare(a, a, 'afterCancel1')).passed FROM img",
	  '-c', "SELECT (facecompare.compare(a, a, 'afterCancel2')).passed FROM img" ],
	'>', \$stdout, '2>', \$stderr);
my $waiting = 0;
for (1 .. 100)
{
	$waiting = $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'waiter' AND wait_event_type = 'Extension'});
	last if $waiting eq '1';
	usleep(50_000);
}
is($waiting, '1', 'the waiting call shows as an Extension wait in pg_stat_activity');
$t0 = time;
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter'});
# Poll for the cancel to take effect: the error appears on the session's stderr.
my $cancelled_after;
for (1 .. 400)
{
	$session->pump_nb;
	if ($stderr =~ /canceling statement due to user request/)
	{
		$cancelled_after = time - $t0;
		last;
	}
	usleep(5_000);
}
ok(defined $cancelled_after, 'pg_cancel_backend cancels the waiting call');
cmp_ok($cancelled_after // 99, '<', 0.2 + $psql_overhead,
	sprintf('... within 200 ms (took %.3f s, including the cancelling psql)', $cancelled_after // 99));
diag(sprintf('pg_cancel_backend: call ended %.3f s after the cancel was sent', $cancelled_after // 99));
$session->finish;
like($stdout, qr/ t\n.* t\n/s, 'the same backend makes its next calls normally');

# Both later calls came over one connection: the same client port in the log.
my %port_of;
for my $line (split /\n/, slurp_file($fast_log))
{
	$port_of{$2} = $1 if $line =~ /127\.0\.0\.1:(\d+) POST \/ MerchantBizId=(afterCancel\d)/;
}
ok($port_of{afterCancel1} && $port_of{afterCancel1} eq ($port_of{afterCancel2} // ''),
	'... and reuses one connection for them');

# facecompare.max_qps is shared: three sessions at once, limit 4 per second,
# against a service that allows 5, get no Throttling.Api (per session, they
# would send 12 per second).
my ($limited, $limited_log) = start_emulator('limited', '--qps', '5');
$node->safe_psql('postgres', qq{ALTER SYSTEM SET facecompare.max_qps = 4; SELECT pg_reload_conf();});
usleep(300_000);
my @batches;
for my $s (1 .. 3)
{
	push @batches, IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c',
		  "SET facecompare.endpoint = '$limited'; SET facecompare.max_retries = 0; "
		  . "SELECT count(*) FILTER (WHERE passed) FROM img, "
		  . "facecompare.compare_many(array_fill(a, ARRAY[4]), array_fill(a, ARRAY[4]), "
		  . "(SELECT array_agg('shared${s}x' || i) FROM generate_series(1, 4) AS i))" ],
		'>', \my $out, '2>', \my $err);
}
$_->finish for @batches;
my $log_text = slurp_file($limited_log);
my $sent = () = $log_text =~ /MerchantBizId=shared\d+x/g;
my $throttled = () = $log_text =~ /MerchantBizId=shared\S+ 403 Throttling\.Api/g;
is($sent, 12, 'three sessions sent their 12 requests');
is($throttled, 0, '... and none was throttled: max_qps is shared by all sessions');
$node->safe_psql('postgres', qq{ALTER SYSTEM RESET facecompare.max_qps; SELECT pg_reload_conf();});

# DEBUG5: nothing of the request reaches the log.
$node->append_conf('postgresql.conf', "log_min_messages = debug5\nlog_statement = 'none'");
$node->reload;
$node->safe_psql('postgres', "SET facecompare.endpoint = '$fast'; SELECT facecompare.compare(a, a) FROM img");
$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/ACS3-HMAC-SHA256|Authorization|x-acs-signature-nonce|x-acs-content-sha256/i,
	'no header, signature or Authorization value in the log at DEBUG5');
unlike($log, qr/emulator-key-secret/, 'no secret in the log at DEBUG5');
unlike($log, qr{/9j/4}, 'no image base64 in the log at DEBUG5');

# Credentials from the server's environment, as the official SDKs read them.
my $env_node = PostgreSQL::Test::Cluster->new('environment');
$env_node->init;
$env_node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'facecompare'
facecompare.endpoint = '$fast'
});
{
	local $ENV{ALIBABA_CLOUD_ACCESS_KEY_ID} = 'emulator-key-id';
	local $ENV{ALIBABA_CLOUD_ACCESS_KEY_SECRET} = 'emulator-key-secret';
	$env_node->start;
}
$env_node->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE img AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a;
});
is($env_node->safe_psql('postgres', 'SELECT (facecompare.compare(a, a)).passed FROM img'), 't',
	'with the settings empty, credentials come from ALIBABA_CLOUD_* in the environment');
is($env_node->safe_psql('postgres', 'SHOW facecompare.access_key_secret'), '',
	'... and never appear as a setting');
$env_node->stop;

stop_emulators();
done_testing();
