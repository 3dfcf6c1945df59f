# The queue and its background worker: uploads are recorded at once and
# verified soon after; nothing is sent before commit or after rollback; a
# crash loses nothing and finishes nothing twice; faults end in done after
# retries or in failed with their code; the worker restarts, stops promptly
# and keeps no image bytes it no longer needs.
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
# Requests the emulator has answered (one log line each).
sub answered
{
	my ($log, $pattern) = @_;
	$pattern //= qr/POST/;
	return scalar grep { /$pattern/ } split /\n/, slurp_file($log);
}

my ($far, $far_log) = start_emulator('far', '--latency-ms', '300');
my ($busy, $busy_log) = start_emulator('busy', '--qps', '3');
my ($stuck) = start_emulator('stuck', '--latency-ms', '60000');

my $node = facecompare_node('queue', $far, q{
facecompare.worker_database = 'postgres'
facecompare.max_concurrency = 32
facecompare.retry_delay = '20ms'
facecompare.worker_max_attempts = 3
});
$node->start;

sub sql { return $node->safe_psql('postgres', shift); }

# Poll until the query returns 't' (or time runs out); true if it did.
sub wait_for { return poll_query($node, @_); }

sub worker_pid
{
	return sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'facecompare worker'});
}

ok(worker_pid() =~ /^\d+$/, 'the worker starts with the server');

sql(qq{
CREATE EXTENSION facecompare;
CREATE TABLE photo AS SELECT pg_read_binary_file('$fixtures/person-a.jpg') AS a,
							 pg_read_binary_file('$fixtures/person-a.png') AS b;
CREATE TABLE uploads (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, selfie bytea, id_photo bytea);
CREATE TABLE uploads_untriggered (LIKE uploads INCLUDING ALL);
CREATE TRIGGER verify AFTER INSERT ON uploads FOR EACH ROW
	EXECUTE FUNCTION facecompare.verify_upload('selfie', 'id_photo');
-- Every move of a request into done or failed, logged in the same transaction.
-- It runs in the worker, whose search_path is pg_catalog, pg_temp: qualified.
CREATE TABLE finish_log (id bigint, status facecompare.request_status);
CREATE FUNCTION log_finish() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO public.finish_log VALUES (NEW.id, NEW.status); RETURN NULL; END \$\$;
CREATE TRIGGER log_finish AFTER UPDATE ON facecompare.request FOR EACH ROW
	WHEN (NEW.status IN ('done', 'failed') AND OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION log_finish();
});

# 1. 500 uploads in one transaction: the commit does not wait for the service
# (300 ms away: one at a time, 150 s), and nothing is sent before it.
my $insert = q{INSERT INTO %s (selfie, id_photo) SELECT a, b FROM photo, generate_series(1, 500)};
my $t0 = time;
sql(sprintf($insert, 'uploads_untriggered'));
my $baseline = time - $t0;
$t0 = time;
my $during = $node->safe_psql('postgres', sprintf("BEGIN; $insert; SELECT pg_sleep(1); SELECT count(*) FROM facecompare.request; COMMIT;", 'uploads'));
my $with_trigger = time - $t0 - 1;
is((split /\n/, $during)[-1], '500', '500 uploads queue 500 requests');
is(answered($far_log), 0, 'nothing reaches the service before the uploads commit');
cmp_ok($with_trigger, '<', 5, sprintf('500 uploads commit in %.3f s, not after 500 calls', $with_trigger));
# The trigger copies each upload's images into its request, so the insert
# writes them twice: the figures, not a timed assertion (test/bench/ has those).
diag(sprintf('500 uploads: insert and commit %.3f s with the trigger, %.3f s without', $with_trigger, $baseline));

$t0 = time;
ok(wait_for(q{SELECT count(*) = 500 FROM facecompare.request WHERE status = 'done'}, 120), 'all 500 get results');
diag(sprintf('500 uploads verified %.1f s after commit', time - $t0));
is(sql(q{SELECT count(*) FROM uploads u JOIN facecompare.request_outcome r
		 ON r.upload_table = 'public.uploads' AND r.upload_key = u.id::text
		 WHERE r.passed AND r.score > 90 AND r.transaction_id IS NOT NULL}),
	'500', 'each upload joins to its verdict');
is(answered($far_log), 500, 'one call per upload');

# 2. NOTIFY facecompare_done '<id>' when a request finishes.
my $out = $node->safe_psql('postgres', q{
LISTEN facecompare_done;
SELECT 'id=' || facecompare.enqueue(a, b) FROM photo;
SELECT pg_sleep(3);
});
my ($id) = $out =~ /id=(\d+)/;
like($out, qr/Asynchronous notification "facecompare_done" with payload "$id" received/,
	'NOTIFY facecompare_done carries the finished request id');
is(sql("SELECT status = 'done' AND source_image IS NULL AND target_image IS NULL FROM facecompare.request WHERE id = $id"),
	't', 'image bytes are dropped once the request is done');

# 3. A rolled-back insert never reaches the service.
my $before = answered($far_log);
sql(sprintf("BEGIN; $insert; ROLLBACK;", 'uploads') =~ s/500\)/20)/r);
is(sql(q{SELECT count(*) FROM facecompare.request WHERE status <> 'done'}), '0', 'a rolled-back insert leaves no request');
sleep 2;
is(answered($far_log), $before, '... and sends nothing');

# 3b. facecompare.face_quality_check goes with the request: the worker asks
# for the scores of the requests queued with it on, and stores them.
sql(q{
SET facecompare.face_quality_check = on;
SELECT facecompare.enqueue(a, b, 'QueueQualityOn') FROM photo;
RESET facecompare.face_quality_check;
SELECT facecompare.enqueue(a, b, 'QueueQualityOff') FROM photo;
});
ok(wait_for(q{SELECT count(*) = 2 FROM facecompare.request WHERE merchant_biz_id LIKE 'QueueQuality%' AND status = 'done'}, 60),
	'requests with and without face_quality_check are done');
is(sql(q{SELECT string_agg(concat_ws(' ', merchant_biz_id, face_quality_check,
			 face_quality_score IS NOT NULL, illumination_score IS NOT NULL, occlusion_score IS NOT NULL,
			 ka_occlusion_score IS NOT NULL, sharpness_score BETWEEN 0 AND 100), E'\n' ORDER BY id)
		 FROM facecompare.finished_request WHERE merchant_biz_id LIKE 'QueueQuality%'}),
	"QueueQualityOn t t t t t t\nQueueQualityOff f f f f f",
	'the worker stores the five scores only for the request that asked');

# 4. Faults: retried to done, or failed with the code after the attempts.
sql(q{
SELECT facecompare.enqueue(a, b, 'EMUFlaky4once') FROM photo;
SELECT facecompare.enqueue(a, b, 'EMUFaultHtml502always') FROM photo;
SELECT facecompare.enqueue(pg_read_binary_file('} . $fixtures . q{/blank.png'), a, 'noFaceAtAll') FROM photo;
SELECT facecompare.enqueue(a, b, 'EMUThrottlingApi1') FROM photo;
});
ok(wait_for(q{SELECT count(*) = 0 FROM facecompare.request WHERE status IN ('pending', 'running')}, 60),
	'every faulty request comes to an end');
is(sql(q{SELECT string_agg(concat_ws(' ', merchant_biz_id, status, attempts, error_sqlstate, error_code), E'\n' ORDER BY id)
		 FROM facecompare.request WHERE merchant_biz_id IN ('EMUFlaky4once', 'EMUFaultHtml502always', 'noFaceAtAll', 'EMUThrottlingApi1')}),
	join("\n",
		'EMUFlaky4once done 2',
		'EMUFaultHtml502always failed 3 58000',
		'noFaceAtAll failed 1 22000 NoFaceDetected',
		'EMUThrottlingApi1 failed 3 53400 Throttling.Api'),
	'a flaky service ends done after retries; a broken one failed with its code after 3 attempts; a bad photo at once');

# Throttled by an emulator that allows 3 per second: backing off a second
# each time, all end done (given attempts enough to wait their turn).
sql(qq{ALTER SYSTEM SET facecompare.endpoint = '$busy';
	   ALTER SYSTEM SET facecompare.worker_max_attempts = 10; SELECT pg_reload_conf();});
sleep 1;
sql(q{SELECT facecompare.enqueue(a, b, 'busy' || i) FROM photo, generate_series(1, 30) AS i});
ok(wait_for(q{SELECT count(*) = 30 FROM facecompare.request WHERE merchant_biz_id LIKE 'busy%' AND status = 'done'}, 90),
	'30 requests at once against a 3 QPS service all end done');
my $throttled = answered($busy_log, qr/Throttling\.Api/);
cmp_ok($throttled, '>', 0, "... though $throttled answers were Throttling.Api");
sql(qq{ALTER SYSTEM SET facecompare.endpoint = '$far';
	   ALTER SYSTEM RESET facecompare.worker_max_attempts; SELECT pg_reload_conf();});
sleep 1;

# 5. Crash (-m immediate) while requests run: after restart each ends once.
sql('TRUNCATE finish_log');
sql(sprintf($insert, 'uploads') =~ s/500\)/200)/r);
ok(wait_for(q{SELECT count(*) FILTER (WHERE status = 'running') > 0 AND count(*) FILTER (WHERE status = 'done') > 0
			  FROM facecompare.request WHERE id > (SELECT max(id) - 200 FROM facecompare.request)}, 30),
	'some requests done, some running');
$node->stop('immediate');
$node->start;
ok(wait_for(q{SELECT count(*) = 0 FROM facecompare.request WHERE status IN ('pending', 'running')}, 60),
	'after the crash every request comes to an end');
is(sql(q{SELECT count(*) FROM facecompare.request WHERE id > (SELECT max(id) - 200 FROM facecompare.request) AND status = 'done'}),
	'200', 'none of the 200 is lost');
is(sql(q{SELECT count(*) FROM (SELECT id FROM finish_log GROUP BY id HAVING count(*) > 1) dup}), '0', 'none finished twice');
is(sql(q{SELECT count(DISTINCT id) FROM finish_log}), '200', 'each finished exactly once');
like(slurp_file($node->logfile), qr/facecompare worker: [1-9]\d* interrupted requests queued again/,
	'the restarted worker picked up what was running');

# 6. The worker comes back after it dies, and stops promptly on shutdown.
my $pid = worker_pid();
sql("SELECT pg_terminate_backend($pid)");
ok(wait_for(qq{SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'facecompare worker' AND pid <> $pid)}, 30),
	'a terminated worker is started again');
sql(qq{ALTER SYSTEM SET facecompare.endpoint = '$stuck'; SELECT pg_reload_conf();});
sleep 1;
sql(q{SELECT facecompare.enqueue(a, b, 'stuck' || i) FROM photo, generate_series(1, 5) AS i});
ok(wait_for(q{SELECT count(*) = 5 FROM facecompare.request WHERE status = 'running'}, 30), 'requests wait on a stalled service');
sql(q{ALTER SYSTEM RESET facecompare.endpoint});
$t0 = time;
$node->stop('fast');
my $stop = time - $t0;
cmp_ok($stop, '<', 5, sprintf('the server stops in %.2f s with the worker waiting on the network', $stop));

# 7. Retention: finished requests older than facecompare.retention go.
$node->append_conf('postgresql.conf', qq{facecompare.endpoint = '$far'\nfacecompare.retention = '2s'});
$node->start;
ok(wait_for(q{SELECT count(*) = 0 FROM facecompare.request WHERE status IN ('pending', 'running')}, 60), 'the stalled requests finish after restart');
sleep 3;
sql(q{SELECT facecompare.enqueue(a, b, 'wakeTheWorker') FROM photo});
ok(wait_for(q{SELECT count(*) <= 1 FROM facecompare.request}, 30), 'finished requests older than facecompare.retention are deleted');

$node->stop;
stop_emulators();
done_testing();
