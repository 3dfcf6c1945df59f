# The secret and the token stay out of the server log and pg_stat_activity
# however a statement spells their names, and image bytes stay out of the
# log when PostgreSQL itself reports an error during a call.
use strict;
use warnings;
use MIME::Base64;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FacecompareEmulator;

my $emulator = $ENV{FC_EMULATOR} or plan skip_all => 'FC_EMULATOR is not set (run script/test)';
my $fixtures = $ENV{FC_FIXTURES};
# Names no other test uses: tmp_check is shared, and another test's port
# file would be read before ours is written.
my ($slow) = start_emulator('redaction_slow', '--latency-ms', '5000');
my ($fast) = start_emulator('redaction_fast');

my $node = PostgreSQL::Test::Cluster->new('redaction');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'facecompare'
log_statement = all
facecompare.access_key_id = 'emulator-key-id'
facecompare.access_key_secret = 'emulator-key-secret'
facecompare.endpoint = '$slow'
facecompare.max_retries = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION facecompare');

# Values that must never reach the log: every one is set by some spelling.
my @values;

# Run statements in one session (psql sends them one by one) and check that
# PostgreSQL accepted the spelling.
sub session_ok
{
	my ($sql, $name) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	is($ret, 0, "accepted: $name") or diag($stderr);
}

# Spellings of SET and set_config() that name a secret setting.
my @spellings = (
	[ 'blanks around the dot', q{SET facecompare . access_key_secret = 'Spelling-Space-1a2b'} ],
	[ 'a comment after the dot', q{SET facecompare./**/access_key_secret = 'Spelling-Comment-3c4d'} ],
	[ 'a nested comment', q{SET facecompare./* outer /* nested */ still */access_key_secret = 'Spelling-Nested-5e6f'} ],
	[ 'a line comment', qq{SET facecompare -- a comment\n.security_token = 'Spelling-Line-6a7b'} ],
	[ 'quoted identifiers', q{SET "facecompare"."access_key_secret" = 'Spelling-Quoted-7a8b'} ],
	[ 'mixed case', q{SET FaceCompare . "ACCESS_KEY_SECRET" TO 'Spelling-Case-9c0d'} ],
	[ 'a name built with ||', q{SELECT set_config('facecompare.' || 'access_key_secret', 'Spelling-Concat-1e2f', false)} ],
	[ 'an E string escape', q{SELECT set_config(E'facecompare.\x61ccess_key_secret', 'Spelling-Escape-3a4b', false)} ],
	[ 'dollar quoting', q{SELECT set_config($q$facecompare.$q$ || $$security_token$$, 'Spelling-Dollar-5c6d', false)} ],
	[ 'continued string literals', qq{SELECT set_config('facecompare.access_'\n'key_secret', 'Spelling-Continued-5a6b', false)} ],
	[ 'a U& identifier', q{SET U&"facecompare.\0061ccess_key_secret" = 'Spelling-Unicode-7e8f'} ],
	[ 'a U& identifier with UESCAPE', q{SET U&"facecompare.!0061ccess_key_secret" UESCAPE '!' = 'Spelling-Uescape-9a0b'} ],
	[ 'a U& string', q{SELECT set_config(U&'facecompare.\+000061ccess_key_secret', 'Spelling-Ustring-2f3a', false)} ],
	[ 'a prepared statement\'s parameter',
		qq{PREPARE p(text) AS SELECT set_config('facecompare.access_key_secret', \$1, false);\nEXECUTE p('Spelling-Prepared-1c2d');} ],
	[ 'a later statement quoting the value just set',
		qq{SET facecompare . access_key_secret = 'Spelling-Echo-7c8d';\nSELECT length('Spelling-Echo-7c8d');} ],
	[ 'a value seen by ALTER SYSTEM before any reload',
		qq{ALTER SYSTEM SET facecompare.security_token = 'Pending-Value-9e0f';\nSELECT length('Pending-Value-9e0f');\nALTER SYSTEM RESET facecompare.security_token;} ],
	[ 'a PL/pgSQL statement',
		q{DO $$BEGIN PERFORM set_config('facecompare.' || 'security_token', 'Spelling-Plpgsql-8d9e', false); END$$} ],
);
for my $s (@spellings)
{
	my ($name, $sql) = @$s;
	session_ok($sql, $name);
	push @values, [ $name, $sql =~ /'((?:Spelling|Pending)-[A-Za-z]+-[0-9a-f]{4})'/ ];
}

# Errors quote the statement (STATEMENT:) and, in PL/pgSQL, the inner
# statement (CONTEXT:).
$node->psql('postgres',
	q{SELECT set_config('facecompare.' || 'access_key_secret', 'Spelling-Error-2b3c', false), 1/0});
push @values, [ 'the STATEMENT line of an error', 'Spelling-Error-2b3c' ];
$node->psql('postgres',
	q{DO $$BEGIN PERFORM set_config('facecompare.' || 'access_key_secret', 'Spelling-Context-4d5e', false), 1/0; END$$});
push @values, [ 'the CONTEXT line of an error', 'Spelling-Context-4d5e' ];

# The extended protocol logs parameters as "DETAIL: parameters: $1 = '...'".
$node->pgbench('-n -t 1 -M extended -D v=Spelling-Extended-3e4f',
	0, [qr/processed: 1\/1/], [qr/^$/], 'extended protocol: set_config() with a parameter',
	{ 'fc_extended' => q{SELECT set_config('facecompare.access_key_secret', :v, false);} });
push @values, [ 'a parameter of the extended protocol', 'Spelling-Extended-3e4f' ];

# pg_stat_activity keeps an idle session's last statement: a member of
# pg_read_all_stats must not find a secret there.
$node->safe_psql('postgres', 'CREATE ROLE monitor LOGIN IN ROLE pg_read_all_stats');
my @idle = (
	[ 'ALTER SYSTEM SET', q{ALTER SYSTEM SET facecompare.access_key_secret = 'Activity-Alter-6f7a'} ],
	[ 'ALTER SYSTEM SET, spelt otherwise', q{ALTER SYSTEM SET facecompare . security_token = 'Activity-Spelt-2c3d'} ],
	[ 'SET', q{SET facecompare.security_token = 'Activity-Set-8b9c'} ],
	[ 'set_config() with a built name', q{SELECT set_config('facecompare.' || 'access_key_secret', 'Activity-Concat-0d1e', false)} ],
);
for my $i (@idle)
{
	my ($name, $sql) = @$i;
	my ($value) = $sql =~ /'(Activity-[A-Za-z]+-[0-9a-f]{4})'/;
	my $session = $node->background_psql('postgres');
	$session->query_safe(q{SET application_name = 'fc_idle'});
	$session->query_safe($sql);
	my $shown = $node->poll_query_until('postgres',
		q{SELECT state = 'idle' FROM pg_stat_activity WHERE application_name = 'fc_idle'});
	ok($shown, "$name: the session is idle");
	my $query = $node->safe_psql('postgres',
		q{SELECT query FROM pg_stat_activity WHERE application_name = 'fc_idle'},
		extra_params => [ '-U', 'monitor' ]);
	unlike($query, qr/\Q$value\E/, "$name: pg_stat_activity of the idle session does not show the value");
	like($query, qr/redacted by facecompare/, "$name: ... it shows a redaction note instead");
	$session->quit;
	push @values, [ "pg_stat_activity after $name", $value ];
}
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ALL');

# PostgreSQL's own errors during a call: statement_timeout while a slow
# service answers.  The statement holds ~150 kB of hex.
my $png = slurp_file("$fixtures/person-a.png");
my $jpg = slurp_file("$fixtures/person-a.jpg");
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET statement_timeout = '1s';\n"
	. sprintf(q{SELECT facecompare.compare('\x%s'::bytea, '\x%s'::bytea);}, unpack('H*', $png), unpack('H*', $jpg)));
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancels a call with bytea literals');

# The same with base64, which no pattern recognises as image bytes: only the
# call itself marks the statement.  (log_statement would log it before the
# call starts, so it is off here.)
my $b64 = encode_base64($jpg, '');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET log_statement = 'none';\nSET statement_timeout = '1s';\n"
	. qq{SELECT facecompare.compare(decode('$b64', 'base64'), decode('$b64', 'base64'));});
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancels a call with base64 literals');
# ... and a call that succeeds under log_min_duration_statement.
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET log_statement = 'none';\nSET log_min_duration_statement = 0;\nSET facecompare.endpoint = '$fast';\n"
	. qq{SELECT (facecompare.compare(decode('$b64', 'base64'), decode('$b64', 'base64'))).passed;});
is($stdout, 't', 'a call with base64 literals passes');

stop_emulators();
$node->stop;
my $log = slurp_file($node->logfile);
for my $v (@values)
{
	my ($name, $value) = @$v;
	unlike($log, qr/\Q$value\E/, "the log does not contain the value set by $name");
}
my ($longest) = sort { $b <=> $a } map { length } $log =~ /([0-9a-fA-F]{64,})/g;
cmp_ok($longest // 0, '<', 300, 'the log holds no run of more than a few hundred hex digits');
like($log, qr/\\x\[\d+ hex digits cut by facecompare\]/, '... the logged statement says where bytes were cut');
my $chunk = substr($b64, 1000, 200);
unlike($log, qr/\Q$chunk\E/, 'the log holds no base64 image bytes of a call (error or duration line)');
like($log, qr/duration: [\d.]+ ms  statement: \[statement text hidden by facecompare/,
	'... the duration line of the call is kept, without its text');
unlike($log, qr/terminated by signal/, 'no backend crashed');

done_testing();
