# Operations that need a server of their own: statistics shared by every
# backend and the worker (or per session without preloading), the circuit
# breaker stopping the queue while the account is refused and letting it
# finish once fixed, and the spend cap shared, persisted across a clean
# restart, and never undercounted by a crash.
use strict;
use warnings;
use HTTP::Tiny;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;
use Time::HiRes qw(time usleep);

plan skip_all => 'FC_EMULATOR is not set (run script/test)' unless $ENV{FC_EMULATOR};
my $fixtures = $ENV{FC_FIXTURES};

my ($url, $log) = start_emulator('ops', '--latency-ms', '50');
sub answered
{
	my ($pattern) = @_;
	return scalar grep { /POST \/ .*$pattern/ } split /\n/, slurp_file($log);
}
sub outage
{
	my ($code) = @_;
	my $r = $code
	  ? HTTP::Tiny->new->request('PUT', "$url/emulator/outage?code=$code")
	  : HTTP::Tiny->new->request('DELETE', "$url/emulator/outage");
	die "outage control: $r->{status} $r->{content}" unless $r->{success};
}

# 1. Without preloading: per session, and the view says so.
my $solo = PostgreSQL::Test::Cluster->new('ops_solo');
$solo->init;
$solo->append_conf('postgresql.conf', qq{
facecompare.endpoint = '$url'
facecompare.access_key_id = 'emulator-key-id'
facecompare.max_calls_per_day = 1
});
$solo->start;
$solo->safe_psql('postgres', 'CREATE EXTENSION facecompare');
my ($ret, $out, $err) = $solo->psql('postgres', qq{
SET facecompare.access_key_secret = 'emulator-key-secret';
SET facecompare.raise_on_error = off;
SELECT passed FROM facecompare.compare(pg_read_binary_file('$fixtures/person-a.jpg'), pg_read_binary_file('$fixtures/person-a.png'));
SELECT error_sqlstate FROM facecompare.compare(pg_read_binary_file('$fixtures/person-a.jpg'), pg_read_binary_file('$fixtures/person-a.png'));
SELECT scope || ' ' || calls || ' ' || calls_today FROM facecompare.stats;
});
is($out, "t\n53400\nsession 2 1", 'without preloading, statistics and the cap are the session\'s');
like($err, qr/NOTICE:  facecompare.max_calls_per_day applies to this session only/, '... and a NOTICE says so');
is($solo->safe_psql('postgres', 'SELECT scope || calls FROM facecompare.stats'), 'session0',
	'another session counts from zero');
$solo->stop;

# 2. Preloaded, with the worker: one set of counters for everyone.
my $node = facecompare_node('ops', $url, q{
facecompare.worker_database = 'postgres'
facecompare.max_concurrency = 4
facecompare.retry_delay = '20ms'
facecompare.worker_max_attempts = 2
facecompare.breaker_cooldown = '2s'
});
$node->start;
sub sql { return $node->safe_psql('postgres', shift); }
sub wait_for { return poll_query($node, @_); }
sql(qq{
CREATE EXTENSION facecompare;
CREATE TABLE photo AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a,
							 pg_read_binary_file('$fixtures/person-a.png') AS b;
});
sql(q{SELECT facecompare.compare(a, b, 'opsSession') FROM photo});
sql(q{SELECT facecompare.enqueue(a, b, 'opsQueued' || i) FROM photo, generate_series(1, 3) i});
ok(wait_for(q{SELECT count(*) = 3 FROM facecompare.request WHERE status = 'done'}), 'the queue runs');
is(sql(q{SELECT scope || ' ' || calls || ' ' || passed || ' ' || requests || ' ' || in_flight FROM facecompare.stats}),
	'cluster 4 4 4 0', 'a session\'s call and the worker\'s are counted in one place');
is(sql(q{SELECT pending || ' ' || running FROM facecompare.stats_queue}), '0 0', 'the queue\'s line');

# 3. The breaker.  The account is refused: the worker sends at most its
# max_concurrency requests, then leaves the queue pending, attempts as they were.
outage('Forbidden.AccountAccessDenied');
my $before = answered('AccountAccessDenied');
sql(q{SELECT facecompare.enqueue(a, b, 'opsHeld' || i) FROM photo, generate_series(1, 40) i});
ok(wait_for(q{SELECT breakers_open = 1 FROM facecompare.stats}), 'a refused account opens the breaker');
sleep 1;
my $sent = answered('opsHeld');
cmp_ok($sent, '<=', 4, "at most max_concurrency requests reach the service before it opens ($sent)");
is(sql(q{SELECT count(*) FILTER (WHERE status = 'pending' AND attempts = 0) FROM facecompare.request WHERE merchant_biz_id LIKE 'opsHeld%'}),
	'40', 'every request stays pending with no attempt spent');
# ... sessions fail at once, unsent ...
my $t0 = time;
($ret, $out, $err) = $node->psql('postgres', q{SELECT facecompare.compare(a, b, 'opsRefusedNow') FROM photo});
like($err, qr/ERROR:  ID Verification is not activated.*HINT:  One probe request is sent at/s,
	'a session gets the refusal and when the probe goes');
cmp_ok(time - $t0, '<', 1, 'at once');
is(answered('opsRefusedNow'), 0, '... without sending');
# ... a probe per cool-down, still refused, and the requests still pending.
sleep 5;
my $probes = answered('opsHeld') - $sent;
cmp_ok($probes, '>=', 1, "a probe goes after each cool-down ($probes in 5 s of a 2 s cool-down)");
cmp_ok($probes, '<=', 3, '... one at a time');
is(sql(q{SELECT count(*) FROM facecompare.request WHERE merchant_biz_id LIKE 'opsHeld%'
		 AND (status IN ('done', 'failed') OR (status = 'pending' AND attempts <> 0))}),
	'0', 'the probes spend no attempt either');
like(sql(q{SELECT state || ' ' || code || ' ' || trips FROM facecompare.stats_breakers}),
	qr/^(open|half-open) Forbidden.AccountAccessDenied \d+$/, 'stats_breakers shows it');
# ... fixed: the next probe passes and the whole queue ends done.
outage(undef);
ok(wait_for(q{SELECT count(*) = 40 FROM facecompare.request WHERE merchant_biz_id LIKE 'opsHeld%' AND status = 'done' AND attempts = 1}, 30),
	'once the account is fixed every held request ends done, in one attempt');
is(sql(q{SELECT state FROM facecompare.stats_breakers}), 'closed', 'the breaker is closed');

# 4. The spend cap: counted across sessions and the worker; the queue waits.
my $today = sql(q{SELECT calls_today FROM facecompare.stats});
sql("ALTER SYSTEM SET facecompare.max_calls_per_day = " . ($today + 3) . "; SELECT pg_reload_conf()");
sleep 1;
sql(q{SELECT facecompare.compare(a, b, 'opsCapSession') FROM photo});
sql(q{SELECT facecompare.enqueue(a, b, 'opsCapped' || i) FROM photo, generate_series(1, 5) i});
ok(wait_for(q{SELECT count(*) = 2 FROM facecompare.request WHERE merchant_biz_id LIKE 'opsCapped%' AND status = 'done'}),
	'the worker spends what the session left of the cap');
sleep 2;
is(sql(q{SELECT count(*) FILTER (WHERE status = 'pending' AND attempts = 0) FROM facecompare.request WHERE merchant_biz_id LIKE 'opsCapped%'}),
	'3', 'the rest wait for the next day, no attempt spent');
is(answered('opsCapped'), 2, 'the capped ones are not sent');
is(sql(q{SELECT calls_left_today FROM facecompare.stats}), '0', 'nothing left today');

# ... the count survives a clean restart exactly ...
my $count = sql(q{SELECT calls_today FROM facecompare.stats});
$node->restart;
is(sql(q{SELECT calls_today FROM facecompare.stats}), $count, 'a clean restart keeps the day\'s count');
($ret, $out, $err) = $node->psql('postgres', q{SELECT facecompare.compare(a, b, 'opsAfterRestart') FROM photo});
like($err, qr/ERROR:  facecompare.max_calls_per_day \(\d+\) is reached/, '... and the cap still holds');

# ... and a crash (the postmaster killed: nothing written at exit) never
# lets the day go over the cap: the file counts ahead of what was sent.
sql("ALTER SYSTEM SET facecompare.max_calls_per_day = 1000; SELECT pg_reload_conf()");
sleep 1;
sql(q{SELECT facecompare.compare(a, b, 'opsBeforeCrash' || i) FROM photo, generate_series(1, 5) i});
my $sent_before_crash = sql(q{SELECT calls_today FROM facecompare.stats});
$node->kill9;
sleep 2;
$node->start;
my $after_crash = sql(q{SELECT calls_today FROM facecompare.stats});
cmp_ok($after_crash, '>=', $sent_before_crash, "after a crash the count is not lower ($after_crash >= $sent_before_crash)");
cmp_ok($after_crash - $sent_before_crash, '<', 10, '... and at most a block (1% of the cap) higher');

$node->stop;
done_testing();
