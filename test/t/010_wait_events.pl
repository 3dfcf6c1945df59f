# On PostgreSQL 17 and later a session waiting in facecompare says why in
# pg_stat_activity: FacecompareAnswer (the service's answer),
# FacecompareRetryBackoff (the pause before a retry), FacecompareQpsSlot
# (a facecompare.max_qps send slot). 15 and 16 show the generic "Extension"
# wait, which 002_interrupts checks.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;
use Time::HiRes qw(usleep);

$ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $fixtures = $ENV{FC_FIXTURES};
my ($slow) = start_emulator('slow', '--latency-ms', '30000');
my ($fast) = start_emulator('fast');

my $node = facecompare_node('wait_events', $fast, "facecompare.max_qps = 1\n");
plan skip_all => 'named wait events need PostgreSQL 17 or later (this is ' . $node->pg_version . ')'
  if $node->pg_version < 17;
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE img AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a;
});

# wait_event_of(name, sql, expected): run sql in a session of its own until
# pg_stat_activity shows it in the expected facecompare wait (for up to 6 s),
# then cancel it; returns expected, or else every facecompare wait it showed.
sub wait_event_of
{
	my ($name, $sql, $expected) = @_;
	my ($out, $err) = ('', '');
	my $session = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SET application_name = '$name'; $sql" ],
		'>', \$out, '2>', \$err);
	my %seen;
	for (1 .. 300)
	{
		my $now = $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(wait_event_type || ':' || wait_event, ','), '')
FROM pg_stat_activity WHERE application_name = '$name' AND wait_event LIKE 'Facecompare%'});
		$seen{$now} = 1 if $now ne '';
		last if $seen{$expected};
		usleep(20_000);
	}
	$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$name'");
	$session->finish;
	diag("$name: $err") unless $seen{$expected};
	return $seen{$expected} ? $expected : join(',', sort keys %seen);
}

is(wait_event_of('answer', "SET facecompare.endpoint = '$slow'; SELECT facecompare.compare(a, a) FROM img",
		'Extension:FacecompareAnswer'),
	'Extension:FacecompareAnswer', 'a call waiting on a slow service shows FacecompareAnswer');

is(wait_event_of('backoff', q{SET facecompare.retry_delay = '10s'; SET facecompare.timeout = '60s';
SELECT facecompare.compare(a, a, 'EMUThrottlingApibackoff') FROM img}, 'Extension:FacecompareRetryBackoff'),
	'Extension:FacecompareRetryBackoff', 'a call pausing before a retry shows FacecompareRetryBackoff');

# max_qps = 1: each call after the first waits about a second for its slot.
is(wait_event_of('qps', q{SELECT count(*) FROM img, generate_series(1, 30) g
WHERE (facecompare.compare(a, a, 'qps' || g)).passed}, 'Extension:FacecompareQpsSlot'),
	'Extension:FacecompareQpsSlot', 'a call waiting for a max_qps slot shows FacecompareQpsSlot');

# Another session, another backend: the names are registered once, shared.
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_wait_events WHERE name LIKE 'Facecompare%' AND type = 'Extension'}),
	'3', 'pg_wait_events lists the three, as Extension waits');

$node->stop;
done_testing();
