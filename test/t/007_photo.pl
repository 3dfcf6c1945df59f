# Photo preparation inside the server: the queue's worker prepares a
# request at claim time as its caller's facecompare.prepare_images said, and
# a preparation that fails ends the request failed with 22023; cancel and
# statement_timeout stop a long preparation (12 MP JPEGs decoded in the
# backend, HEIC in a child it kills) within 200 ms; no decoder crash or
# leftover process is possible: the server log has no "terminated by
# signal", and no child of a backend survives a cancel.
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
my ($emu) = start_emulator('photo');

my $node = facecompare_node('photo', $emu, q{
facecompare.worker_database = 'postgres'
facecompare.retry_delay = '20ms'
});
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION facecompare;
CREATE TABLE photo AS
	SELECT pg_read_binary_file('$fixtures/photos/phone-12mp-orient6.jpg') AS phone,
		   pg_read_binary_file('$fixtures/photos/orient-6.jpg') AS sideways,
		   pg_read_binary_file('$fixtures/person-a.jpg') AS id_photo,
		   pg_read_binary_file('$fixtures/photos/truncated.jpg') AS truncated,
		   pg_read_binary_file('$fixtures/prep/large-12mp.heic') AS heic;
});

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub wait_for
{
	my ($query, $seconds) = @_;
	my $until = time + ($seconds // 60);
	while (time < $until)
	{
		return 1 if sql($query) eq 't';
		usleep(100_000);
	}
	return 0;
}

# The worker: each request prepared as its caller asked, at claim time.
sql(q{
SET facecompare.prepare_images = off;
SELECT facecompare.enqueue(sideways, id_photo, 'queuedOff') FROM photo;
RESET facecompare.prepare_images;
SELECT facecompare.enqueue(phone, id_photo, 'queuedPhone') FROM photo;
SELECT facecompare.enqueue(sideways, id_photo, 'queuedSideways') FROM photo;
SELECT facecompare.enqueue(truncated, id_photo, 'queuedTruncated') FROM photo;
});
ok(wait_for(q{SELECT count(*) = 4 FROM facecompare.request WHERE status IN ('done', 'failed')}, 60),
	'the worker finishes the four requests');
is(sql(q{SELECT string_agg(concat_ws(' ', merchant_biz_id, prepare_images, status, passed, error_sqlstate, error_message), E'\n' ORDER BY id)
		 FROM facecompare.request}),
	join("\n",
		'queuedOff off done f',
		'queuedPhone when_needed done t',
		'queuedSideways when_needed done t',
		'queuedTruncated when_needed failed 22023 source image cannot be decoded as JPEG'),
	'off sends the sideways photo as stored (not passed); when_needed prepares the 12 MP selfie and the sideways photo (passed) and fails the truncated one with 22023');

# A long preparation, then a cancel: how long until the call ends.
my $t0 = time;
sql('SELECT 1');
my $psql_overhead = time - $t0;

# For the record (not a check): a 12 MP phone JPEG prepared in a backend.
{
	my @ms;
	for (1 .. 7)
	{
		my $start = time;
		sql(q{SELECT length(facecompare.prepare_image(phone)) FROM photo});
		push @ms, (time - $start - $psql_overhead) * 1000;
	}
	@ms = sort { $a <=> $b } @ms;
	diag(sprintf('prepare_image of the 12 MP JPEG in a backend: %.0f ms (median of 7, psql start-up subtracted)', $ms[3]));
}

sub cancel_after
{
	my ($what, $call, $delay) = @_;
	my ($stdout, $stderr) = ('', '');
	my $session = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SET application_name = 'preparer'; $call" ],
		'>', \$stdout, '2>', \$stderr);
	my $active = 0;
	for (1 .. 200)
	{
		$active = sql(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'preparer' AND state = 'active'});
		last if $active eq '1';
		usleep(10_000);
	}
	usleep($delay * 1_000_000);
	my $start = time;
	sql(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'preparer'});
	my $after;
	for (1 .. 1000)
	{
		$session->pump_nb;
		if ($stderr =~ /canceling/)
		{
			$after = time - $start;
			last;
		}
		usleep(2_000);
	}
	$session->finish;
	ok(defined $after, "cancel stops $what") or diag($stderr);
	cmp_ok($after // 99, '<', 0.2 + $psql_overhead,
		sprintf('... within 200 ms (took %.3f s, including the cancelling psql)', $after // 99));
	diag(sprintf('cancel latency, %s: %.3f s (psql start-up %.3f s)', $what, $after // 99, $psql_overhead));
}

# Ten 12 MP JPEGs: about a second of decoding in the backend.
cancel_after('12 MP JPEG decodes in the backend',
	q{SELECT count(*) FROM photo, generate_series(1, 10) i WHERE length(facecompare.prepare_image(phone || decode(lpad(to_hex(i), 2, '0'), 'hex'))) > 0},
	0.3);
# HEIC: libheif cannot be stopped, the child decoding it is killed.
cancel_after('12 MP HEIC decodes in a child process',
	q{SELECT count(*) FROM photo, generate_series(1, 10) i WHERE length(facecompare.prepare_image(heic || decode(lpad(to_hex(i), 2, '0'), 'hex'))) > 0},
	0.2);

# statement_timeout acts the same way on a HEIC decode.
$t0 = time;
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET statement_timeout = '300ms'; SELECT length(facecompare.prepare_image(heic)) FROM photo, generate_series(1, 5)});
my $elapsed = time - $t0 - $psql_overhead;
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout stops a HEIC preparation');
cmp_ok($elapsed, '<', 0.5, sprintf('... within 200 ms of its 300 ms deadline (took %.3f s)', $elapsed));

# No decoder child outlives its call: the backend has no children left.
usleep(100_000);
my $backend_children = 0;
for my $pid (split /\n/, sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'}))
{
	$backend_children += () = split /\s+/, (`pgrep -P $pid` // '') =~ s/^\s+|\s+$//gr;
}
is($backend_children, 0, 'no decoder process outlives its call');
is(sql(q{SELECT length(facecompare.prepare_image(heic)) > 0 FROM photo}), 't', 'the backend prepares again after the cancels');

my @crashes = grep { /terminated by signal/ } split /\n/, slurp_file($node->logfile);
is(scalar(@crashes), 0, 'the server log has no "terminated by signal"') or diag(join("\n", @crashes));

$node->stop;
done_testing();
