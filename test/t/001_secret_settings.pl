# The AccessKey secret is unreadable by plain roles in every session with the
# documented set-up (library preloaded), and PostgreSQL's placeholder hazard
# without it is real and announced by a WARNING.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $secret = 'Tap-Secret-5b4a3c';

# Without preloading: the setting is a placeholder in sessions that have not
# loaded the library, and placeholders are readable by anyone.
my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->append_conf('postgresql.conf', "facecompare.access_key_secret = '$secret'");
$node->start;
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
is($node->safe_psql('postgres', q{SELECT current_setting('facecompare.access_key_secret')},
		extra_params => [ '-U', 'plain' ]),
	$secret, 'without preloading, a plain role reads the placeholder (the hazard)');

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION facecompare');
is($ret, 0, 'the extension installs without preloading');
$node->safe_psql('postgres', 'GRANT facecompare_user TO plain');
# Without preloading there is no queue worker, and enqueue() says so.
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT facecompare.enqueue('http://example.invalid/a.jpg', 'http://example.invalid/b.jpg')});
like($stderr, qr/WARNING:  no facecompare worker runs the queue of database "postgres".*not in shared_preload_libraries/s,
	'without preloading, enqueue() warns that no worker will run the request');
like($stderr, qr/WARNING:  facecompare is not in shared_preload_libraries, so its secret settings are exposed/,
	'loading the library late warns that the secret was exposed');

# A plain role's SET of a placeholder does not survive the library's load.
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SET facecompare.endpoint = 'http://attacker.example'; SELECT facecompare.service_url()},
	extra_params => [ '-U', 'plain' ]);
unlike($stdout, qr/attacker/, 'a plain role cannot redirect calls by setting a placeholder before the load');
like($stderr, qr/permission denied to set parameter "facecompare.endpoint"/,
	'the placeholder is rejected with a permission error when the library loads');

# Without preloading, max_qps cannot be shared, and a call says so.
$node->append_conf('postgresql.conf', qq{facecompare.max_qps = 5
facecompare.prepare_images = off
facecompare.endpoint = 'http://127.0.0.1:9'
facecompare.access_key_id = 'k'
facecompare.max_retries = 0});
$node->reload;
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT facecompare.compare('\xffd8ff00'::bytea, '\xffd8ff00'::bytea)});
like($stderr, qr/NOTICE:  facecompare.max_qps applies to this session only/,
	'without preloading, a call under max_qps says the limit is per session');
$node->stop;

# The documented set-up: preloaded, secret set with ALTER SYSTEM.
my $safe = PostgreSQL::Test::Cluster->new('preloaded');
$safe->init;
$safe->append_conf('postgresql.conf', "shared_preload_libraries = 'facecompare'");
$safe->append_conf('postgresql.conf', "log_statement = 'all'");
# Every module's settings are read from the file, not only the first's.
$safe->append_conf('postgresql.conf', "facecompare.max_qps = 7\nfacecompare.max_concurrency = 3");
$safe->start;
# Before any reload (which would re-read the file and hide a loss at start).
is($safe->safe_psql('postgres', 'SHOW facecompare.max_qps') . ' ' .
	$safe->safe_psql('postgres', 'SHOW facecompare.max_concurrency'), '7 3',
	'preloaded: settings of every module are taken from postgresql.conf at start');
# The reload makes the postmaster log each changed setting, and log_statement
# logs the ALTER SYSTEM text: both would carry the secret.
$safe->safe_psql('postgres', "ALTER SYSTEM SET facecompare.access_key_secret = '$secret'");
$safe->safe_psql('postgres', 'SELECT pg_reload_conf()');
# Other ways a value reaches statement text: set_config(), SET ... TO, and
# UPDATE pg_settings, where the value comes before the name.
$safe->safe_psql('postgres', "SELECT set_config('facecompare.security_token', '$secret', false)");
$safe->safe_psql('postgres', "SET facecompare.security_token TO '$secret'");
$safe->safe_psql('postgres', "UPDATE pg_settings SET setting = '$secret' WHERE name = 'facecompare.security_token'");
$safe->safe_psql('postgres', 'CREATE ROLE plain LOGIN');

($ret, $stdout, $stderr) = $safe->psql('postgres',
	q{SELECT current_setting('facecompare.access_key_secret')}, extra_params => [ '-U', 'plain' ]);
isnt($ret, 0, 'preloaded: a plain role cannot read the secret with current_setting()');
unlike($stdout . $stderr, qr/$secret/, 'preloaded: the refusal does not quote the secret');
is($safe->safe_psql('postgres', 'SHOW facecompare.access_key_secret'), '********',
	'preloaded: even a superuser sees only a mask');
is($safe->safe_psql('postgres',
		q{SELECT count(*) FROM pg_settings WHERE setting LIKE '%Tap-Secret%' OR reset_val LIKE '%Tap-Secret%'}),
	'0', 'preloaded: pg_settings shows the secret nowhere');
($ret, $stdout, $stderr) = $safe->psql('postgres', 'CREATE EXTENSION facecompare');
unlike($stderr, qr/WARNING/, 'preloaded: no warning');

$safe->stop;
my $log = slurp_file($safe->logfile);
unlike($log, qr/$secret/, 'preloaded: the server log never contains the secret');
like($log, qr/parameter "facecompare.access_key_secret" \[value redacted by facecompare\]/,
	'preloaded: the reload is still logged, without the value');
like($log, qr/statement: \[statement redacted by facecompare: it names facecompare.access_key_secret\]/,
	'preloaded: the statement is still logged, without its text');
like($log, qr/must be superuser or have privileges of pg_read_all_settings to examine "facecompare.access_key_secret"\n/,
	'preloaded: messages that merely name the setting are left whole');

done_testing();
