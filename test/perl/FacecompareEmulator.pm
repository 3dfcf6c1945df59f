# The emulator for TAP tests: start one on a free port, stop them all.
package FacecompareEmulator;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(start_emulator stop_emulators facecompare_node poll_query);

my @running;

# start_emulator(name, options...): returns its URL and its request log.
sub start_emulator
{
	my ($name, @args) = @_;
	my $emulator = $ENV{FC_EMULATOR} or die 'FC_EMULATOR is not set (run script/test)';
	my $portfile = "$PostgreSQL::Test::Utils::tmp_check/$name.port";
	my $log = "$PostgreSQL::Test::Utils::tmp_check/$name.log";
	# An earlier test of the same run may have left its port file here.
	unlink $portfile;
	push @running, IPC::Run::start(
		[ $emulator, '--port', '0', '--port-file', $portfile, '--static-dir', $ENV{FC_FIXTURES}, @args ],
		'>', '/dev/null', '2>', $log);
	for (1 .. 100) { last if -s $portfile; usleep(50_000); }
	my $port = slurp_file($portfile);
	chomp $port;
	return ("http://127.0.0.1:$port", $log);
}

sub stop_emulators
{
	$_->kill_kill for @running;
	@running = ();
}

# facecompare_node(name, endpoint, more postgresql.conf lines): a cluster,
# not started, with the library preloaded, the emulator's key and the
# endpoint set; each test adds the settings it relies on.
sub facecompare_node
{
	my ($name, $endpoint, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'facecompare'
facecompare.access_key_id = 'emulator-key-id'
facecompare.access_key_secret = 'emulator-key-secret'
facecompare.endpoint = '$endpoint'
} . ($conf // ''));
	return $node;
}

# poll_query(node, query, seconds): poll until the query returns 't' (or
# time runs out, by default 60 s); true if it did.
sub poll_query
{
	my ($node, $query, $seconds) = @_;
	my $until = time + ($seconds // 60);
	while (time < $until)
	{
		return 1 if $node->safe_psql('postgres', $query) eq 't';
		usleep(100_000);
	}
	return 0;
}

# A test that dies early must not leave its emulators running: they would
# hold whatever its caller holds (a lock, a terminal) for ever.
END { stop_emulators(); }

1;
