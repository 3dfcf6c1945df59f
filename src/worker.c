/*
 * worker.c
 *		The queue's background worker.  It keeps up to
 *		facecompare.max_concurrency requests of facecompare.request running,
 *		within max_qps, claiming pending ones (FOR UPDATE SKIP LOCKED) as
 *		room frees up, and commits each outcome as soon as it is known, with
 *		NOTIFY facecompare_done '<id>' for each finished request.  A slow
 *		request delays only itself.
 *
 * A claim is committed (status running) before its requests are sent, and
 * no transaction stays open while they are on the network.  A crash leaves
 * the claimed rows running; the next worker puts them back to pending when
 * it starts, so every request ends done or failed exactly once (though the
 * service may see one twice).
 *
 * The worker connects as a superuser, so it runs no one else's code: every
 * request carries its images (enqueue() and the verify_upload trigger copy
 * them), the worker reads and writes facecompare.request alone, and its SQL
 * resolves nothing through search_path.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "batch.h"
#include "image.h"
#include "photo.h"
#include "settings.h"
#include "sharedstate.h"
#include "worker.h"

/* An idle worker still looks this often, for work nobody woke it for. */
#define IDLE_POLL_MS 10000
/* Due work it could not claim is locked by someone else: look again soon. */
#define LOCKED_POLL_MS 1000
/* Longest wait for answers before the worker looks at the queue again. */
#define STEP_MS 100
/* Old rows are deleted at most this often, at most this many at a time. */
#define EXPIRE_EVERY_MS 60000
#define EXPIRE_BATCH 10000
/* After the worker exits with an error, the postmaster restarts it so late. */
#define RESTART_SECONDS 5
/* The worker's own statements touch only its own rows: they never wait long. */
#define WORKER_LOCK_TIMEOUT "10s"
#define WORKER_STATEMENT_TIMEOUT_MS 60000

/*
 * A claimed request while it runs: its pair (first, so a decided pair leads
 * back to it) and the memory that holds its images and outcome.
 */
typedef struct Running
{
	FcPair		pair;
	int64		id;
	int			attempts;		/* times claimed, this one included */
	MemoryContext context;		/* NULL: the slot is free */
} Running;

static Running running[FC_MAX_CONCURRENCY];
static int	nrunning = 0;

void
fc_worker_init(void)
{
	BackgroundWorker worker = {0};

	if (!process_shared_preload_libraries_in_progress || fc_worker_database[0] == '\0')
		return;
	snprintf(worker.bgw_name, BGW_MAXLEN, "facecompare worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "facecompare worker");
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "facecompare");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "facecompare_worker_main");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = RESTART_SECONDS;
	RegisterBackgroundWorker(&worker);
}

/* Let enqueuing sessions find the worker's latch while it runs. */
static void
forget_latch(int code, Datum arg)
{
	SpinLockAcquire(&fc_shared->mutex);
	if (fc_shared->worker_latch == MyLatch)
		fc_shared->worker_latch = NULL;
	SpinLockRelease(&fc_shared->mutex);
}

static void
publish_latch(void)
{
	SpinLockAcquire(&fc_shared->mutex);
	fc_shared->worker_latch = MyLatch;
	SpinLockRelease(&fc_shared->mutex);
	before_shmem_exit(forget_latch, 0);
}


/*
 * Did anyone queue work since we last looked?  Enqueuing sessions set the
 * flag with the latch when they commit.
 */
static bool
take_work_queued(void)
{
	bool		queued;

	SpinLockAcquire(&fc_shared->mutex);
	queued = fc_shared->work_queued;
	fc_shared->work_queued = false;
	SpinLockRelease(&fc_shared->mutex);
	return queued;
}

/*
 * The worker's session runs only its own SQL, which names every object in
 * full; still, nothing a database owner may set for the database (ALTER
 * DATABASE ... SET) changes how it resolves names or how long it waits.
 */
static void
pin_session_settings(void)
{
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", WORKER_LOCK_TIMEOUT, PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("session_replication_role", "origin", PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Open a transaction with a snapshot for SPI; end_sql commits it.  Each is
 * short and bounded: a statement timeout of the worker's own, since nothing
 * arms statement_timeout for a background worker.
 */
static void
begin_sql(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	enable_timeout_after(STATEMENT_TIMEOUT, WORKER_STATEMENT_TIMEOUT_MS);
}

static void
end_sql(void)
{
	disable_timeout(STATEMENT_TIMEOUT, false);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Run a statement the worker cannot do without; any failure is a bug. */
static void
run_sql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "facecompare worker: %s failed: %s", sql, SPI_result_code_string(rc));
}

/* Is the extension, at a version with the queue, installed here? */
static bool
queue_exists(void)
{
	Oid			schema = get_namespace_oid("facecompare", true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid("request", schema));
}

static void
notify_finished(int64 id)
{
	char		payload[32];

	snprintf(payload, sizeof(payload), INT64_FORMAT, id);
	Async_Notify("facecompare_done", payload);
}

/*
 * The worker's SQL below is immune to search_path as well as pinned: every
 * function and operator is qualified with pg_catalog, every value cast to
 * its qualified type.
 */

/*
 * Requests left running by a worker that stopped (crash, shutdown, error)
 * go back to pending; those out of attempts fail, saying why.
 */
static void
recover_interrupted(void)
{
	Oid			types[2] = {INT4OID, BOOLOID};
	Datum		values[2] = {Int32GetDatum(fc_worker_max_attempts), BoolGetDatum(fc_keep_images)};
	int			requeued = 0;

	run_sql("UPDATE facecompare.request AS r SET"
			" status = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN 'failed' ELSE 'pending' END"
			"  ::facecompare.request_status,"
			" not_before = pg_catalog.now(),"
			" finished_at = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN pg_catalog.now() END,"
			" error_sqlstate = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN '58000' ELSE r.error_sqlstate END,"
			" error_code = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1 THEN NULL ELSE r.error_code END,"
			" error_message = CASE WHEN r.attempts OPERATOR(pg_catalog.>=) $1"
			"  THEN pg_catalog.format('the facecompare worker stopped while running attempt %s of %s', r.attempts, $1)"
			"  ELSE r.error_message END,"
			" source_image = CASE WHEN r.attempts OPERATOR(pg_catalog.<) $1 OR $2 THEN r.source_image END,"
			" target_image = CASE WHEN r.attempts OPERATOR(pg_catalog.<) $1 OR $2 THEN r.target_image END "
			"WHERE r.status OPERATOR(pg_catalog.=) 'running'::facecompare.request_status "
			"RETURNING r.id, r.status OPERATOR(pg_catalog.=) 'failed'::facecompare.request_status",
			2, types, values, NULL, SPI_OK_UPDATE_RETURNING);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	row = SPI_tuptable->vals[i];

		if (DatumGetBool(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull)))
			notify_finished(DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull)));
		else
			requeued++;
	}
	if (SPI_processed > 0)
		ereport(LOG,
				(errmsg("facecompare worker: %d interrupted requests queued again, %d failed for lack of attempts",
						requeued, (int) SPI_processed - requeued)));
}

/* Delete finished requests older than facecompare.retention. */
static void
expire_finished(void)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(fc_retention_s), Int32GetDatum(EXPIRE_BATCH)};

	run_sql("DELETE FROM facecompare.request AS r WHERE r.id OPERATOR(pg_catalog.=) ANY ("
			" SELECT q.id FROM facecompare.request AS q"
			" WHERE (q.status OPERATOR(pg_catalog.=) 'done'::facecompare.request_status"
			"        OR q.status OPERATOR(pg_catalog.=) 'failed'::facecompare.request_status)"
			"   AND q.finished_at OPERATOR(pg_catalog.<)"
			"       (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))"
			" LIMIT $2)",
			2, types, values, NULL, SPI_OK_DELETE);
	if (SPI_processed > 0)
		ereport(DEBUG1,
				(errmsg("facecompare worker: deleted %llu requests older than facecompare.retention",
						(unsigned long long) SPI_processed)));
}

/* Milliseconds until the next pending request is due (IDLE_POLL_MS if none). */
static long
ms_until_next_due(void)
{
	bool		isnull;
	Datum		ms;

	run_sql("SELECT (pg_catalog.date_part('epoch', pg_catalog.min(r.not_before)"
			"        OPERATOR(pg_catalog.-) pg_catalog.now()) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8"
			" FROM facecompare.request AS r"
			" WHERE r.status OPERATOR(pg_catalog.=) 'pending'::facecompare.request_status",
			0, NULL, NULL, NULL, SPI_OK_SELECT);
	ms = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return IDLE_POLL_MS;
	if (DatumGetInt64(ms) <= 0)
		return LOCKED_POLL_MS;
	return (long) Min(DatumGetInt64(ms), IDLE_POLL_MS);
}

#define OUTCOME_NARGS 13

/* Store a request's outcome: done, failed, or pending again for a later try. */
static void
store_outcome(const Running *r)
{
	static SPIPlanPtr plan = NULL;
	const FcPair *p = &r->pair;
	Oid			types[OUTCOME_NARGS] = {INT8OID, TEXTOID, FLOAT8OID, TEXTOID, BOOLOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, BOOLOID, BOOLOID};
	Datum		values[OUTCOME_NARGS] = {0};
	char		nulls[OUTCOME_NARGS];
	const char *status;
	double		retry_ms = 0;

	if (plan == NULL)
	{
		plan = SPI_prepare("UPDATE facecompare.request AS r SET"
						   " status = $2::facecompare.request_status,"
						   " not_before = pg_catalog.now() OPERATOR(pg_catalog.+)"
						   "  pg_catalog.make_interval(secs => $3 OPERATOR(pg_catalog./) 1000),"
						   " finished_at = CASE WHEN $12 THEN NULL ELSE pg_catalog.clock_timestamp() END,"
						   " transaction_id = $4, passed = $5, score = $6::pg_catalog.numeric, request_id = $7,"
						   " error_sqlstate = $8, error_code = $9, error_message = $10, latency_ms = $11,"
						   " source_image = CASE WHEN $12 OR $13 THEN r.source_image END,"
						   " target_image = CASE WHEN $12 OR $13 THEN r.target_image END "
						   "WHERE r.id OPERATOR(pg_catalog.=) $1"
						   " AND r.status OPERATOR(pg_catalog.=) 'running'::facecompare.request_status",
						   OUTCOME_NARGS, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "facecompare worker: could not prepare the outcome update: %s",
				 SPI_result_code_string(SPI_result));
	}

	/* An error not of the request's own (out of memory, no socket) is not its fault either. */
	if (p->ok)
		status = "done";
	else if ((p->error.retryable || p->error.always_raise) && r->attempts < fc_worker_max_attempts)
	{
		status = "pending";
		retry_ms = fc_backoff_delay_ms(fc_max_retries + r->attempts, p->error.throttled);
	}
	else
		status = "failed";

	memset(nulls, 'n', sizeof(nulls));
#define SET_ARG(i, datum) do { values[(i) - 1] = (datum); nulls[(i) - 1] = ' '; } while (0)
#define SET_TEXT(i, str) do { if (str) SET_ARG(i, CStringGetTextDatum(str)); } while (0)
	SET_ARG(1, Int64GetDatum(r->id));
	SET_TEXT(2, status);
	SET_ARG(3, Float8GetDatum(retry_ms));
	if (p->ok)
	{
		SET_TEXT(4, p->verdict.transaction_id);
		SET_ARG(5, BoolGetDatum(p->verdict.passed));
		SET_TEXT(6, p->verdict.score);
		SET_TEXT(7, p->verdict.request_id);
	}
	if (!p->ok)
		SET_TEXT(8, fc_error_sqlstate(&p->error));
	SET_TEXT(9, p->error.code);
	SET_TEXT(10, p->error.message);
	if (p->first_sent_at != 0)
		SET_ARG(11, Float8GetDatum((p->decided_at - p->first_sent_at) / 1000.0));
	SET_ARG(12, BoolGetDatum(strcmp(status, "pending") == 0));
	SET_ARG(13, BoolGetDatum(fc_keep_images));
#undef SET_TEXT
#undef SET_ARG

	if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "facecompare worker: could not store the outcome of request " INT64_FORMAT, r->id);
	/* Gone or no longer running (deleted, reset by hand): nothing to tell. */
	if (SPI_processed == 1 && strcmp(status, "pending") != 0)
		notify_finished(r->id);
}

/* Forget a request once its outcome is stored. */
static void
release(Running *r)
{
	MemoryContextDelete(r->context);
	memset(r, 0, sizeof(Running));
	nrunning--;
}

/*
 * One side of a claimed pair from the claim's columns (length, bytes or
 * head, URL), copied into the request's context.  A picture over the limit
 * came back as its head only: the checks need no more to refuse it.
 */
static void
set_claimed_side(FcImageArg *side, const char *name, HeapTuple row, TupleDesc desc, int first)
{
	bool		len_null,
				bytes_null,
				url_null;
	Datum		len = SPI_getbinval(row, desc, first, &len_null);
	Datum		bytes = SPI_getbinval(row, desc, first + 1, &bytes_null);
	Datum		url = SPI_getbinval(row, desc, first + 2, &url_null);

	if (!bytes_null)
	{
		fc_image_from_datum(side, name, false, PointerGetDatum(DatumGetByteaPCopy(bytes)), false, false);
		side->len = (size_t) DatumGetInt32(len);
	}
	else
		fc_image_from_datum(side, name, true, url, url_null, false);
}

/* The 0.4.0 queue keeps each request's facecompare.prepare_images. */
static bool
queue_has_prepare_column(void)
{
	Oid			relid = get_relname_relid("request", get_namespace_oid("facecompare", false));

	return get_attnum(relid, "prepare_images") != InvalidAttrNumber;
}

/* The mode its caller had; NULL (queued before 0.4.0): off, as then. */
static void
set_claimed_mode(FcPair *pair, const char *mode)
{
	int			m = FC_PREPARE_OFF;

	if (mode && strcmp(mode, "when_needed") == 0)
		m = FC_PREPARE_WHEN_NEEDED;
	else if (mode && strcmp(mode, "always") == 0)
		m = FC_PREPARE_ALWAYS;
	pair->source.prepare = pair->target.prepare = m;
}

/*
 * A picture claimed as its head, that its mode will prepare and that is
 * within facecompare.max_image_bytes, is read whole now, alone.  Any other
 * head is judged as it is: the checks need no more to refuse it.
 */
static bytea *
read_claimed_whole(int64 id, FcImageArg *side, const char *column)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	char	   *sql;
	bool		isnull;
	Datum		image;
	bytea	   *copy = NULL;
	MemoryContext context = CurrentMemoryContext;

	if (side->is_url || side->missing || side->prepare == FC_PREPARE_OFF ||
		side->avail >= side->len || side->len > (size_t) fc_max_image_bytes)
		return NULL;
	sql = psprintf("SELECT r.%s FROM facecompare.request AS r WHERE r.id OPERATOR(pg_catalog.=) $1", column);
	run_sql(sql, 1, types, values, NULL, SPI_OK_SELECT);
	/* SPI returns in its own context: the copy belongs to the request's. */
	MemoryContextSwitchTo(context);
	pfree(sql);
	image = SPI_processed == 1 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : (Datum) 0;
	if (image != (Datum) 0 && !isnull)
	{
		copy = DatumGetByteaPCopy(image);
		side->bytes = VARDATA_ANY(copy);
		side->len = side->avail = VARSIZE_ANY_EXHDR(copy);
	}
	SPI_freetuptable(SPI_tuptable);
	return copy;
}

/* Once prepared, the original (up to max_image_bytes) is not kept. */
static void
drop_original(FcImageArg *side, bytea *original)
{
	if (original && side->prepared)
		pfree(original);
}

/*
 * Claim up to limit due requests, commit them as running and hand them to
 * the batch.  *next_claim gets when to look again if fewer were due.
 */
static void
claim(int limit, FcBatch *batch, MemoryContext worker_context, TimestampTz *next_claim)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(limit), Int32GetDatum(FC_MAX_PICTURE_BYTES)};
	Running    *claimed[FC_MAX_CONCURRENCY];
	int			n;
	SPITupleTable *rows;
	bool		mode_column = queue_has_prepare_column();
	char	   *sql;

	/*
	 * A picture over the service's limit comes back as its head: refused on
	 * it, or, when the request asks for preparation, read whole afterwards,
	 * one at a time (prepare_claimed_side), so the worker holds at most one
	 * original at once.
	 */
	sql = psprintf("UPDATE facecompare.request AS r SET status = 'running'::facecompare.request_status,"
			" attempts = r.attempts OPERATOR(pg_catalog.+) 1, started_at = pg_catalog.now() "
			"WHERE r.id OPERATOR(pg_catalog.=) ANY (SELECT q.id FROM facecompare.request AS q"
			"  WHERE q.status OPERATOR(pg_catalog.=) 'pending'::facecompare.request_status"
			"    AND q.not_before OPERATOR(pg_catalog.<=) pg_catalog.now()"
			"  ORDER BY q.id LIMIT $1 FOR UPDATE SKIP LOCKED) "
			"RETURNING r.id, r.attempts, r.merchant_biz_id,"
			" pg_catalog.octet_length(r.source_image),"
			" CASE WHEN pg_catalog.octet_length(r.source_image) OPERATOR(pg_catalog.<=) $2 THEN r.source_image"
			"  ELSE pg_catalog.substr(r.source_image, 1, 16) END,"
			" r.source_url,"
			" pg_catalog.octet_length(r.target_image),"
			" CASE WHEN pg_catalog.octet_length(r.target_image) OPERATOR(pg_catalog.<=) $2 THEN r.target_image"
			"  ELSE pg_catalog.substr(r.target_image, 1, 16) END,"
			" r.target_url, %s",
			mode_column ? "r.prepare_images" : "NULL::pg_catalog.text");
	run_sql(sql, 2, types, values, NULL, SPI_OK_UPDATE_RETURNING);
	pfree(sql);
	n = (int) SPI_processed;
	rows = SPI_tuptable;
	for (int i = 0; i < n; i++)
	{
		HeapTuple	row = rows->vals[i];
		TupleDesc	desc = rows->tupdesc;
		Running    *r = NULL;
		MemoryContext old;
		bool		isnull;
		bytea	   *originals[2];

		for (int slot = 0; slot < FC_MAX_CONCURRENCY && r == NULL; slot++)
			if (running[slot].context == NULL)
				r = &running[slot];
		if (r == NULL)
			elog(ERROR, "facecompare worker: claimed more requests than it can run");
		r->context = AllocSetContextCreate(worker_context, "facecompare queued request",
										   ALLOCSET_SMALL_SIZES);
		nrunning++;
		old = MemoryContextSwitchTo(r->context);
		r->id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		r->attempts = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
		r->pair.context = r->context;
		r->pair.merchant_biz_id = SPI_getvalue(row, desc, 3);
		set_claimed_side(&r->pair.source, "source", row, desc, 4);
		set_claimed_side(&r->pair.target, "target", row, desc, 7);
		set_claimed_mode(&r->pair, SPI_getvalue(row, desc, 10));
		originals[0] = read_claimed_whole(r->id, &r->pair.source, "source_image");
		originals[1] = read_claimed_whole(r->id, &r->pair.target, "target_image");
		/* The checks, then each picture prepared as its caller asked. */
		fc_batch_check_pair(&r->pair);
		fc_batch_prepare_pair(&r->pair);
		drop_original(&r->pair.source, originals[0]);
		drop_original(&r->pair.target, originals[1]);
		MemoryContextSwitchTo(old);
		claimed[i] = r;
	}
	/* A request that fails the checks now (queued by hand) ends at once. */
	for (int i = 0; i < n; i++)
	{
		if (!claimed[i]->pair.invalid)
			continue;
		claimed[i]->pair.decided_at = GetCurrentTimestamp();
		store_outcome(claimed[i]);
		release(claimed[i]);
		claimed[i] = NULL;
	}
	*next_claim = n < limit
		? TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms_until_next_due())
		: 0;
	end_sql();

	/* Sent only now that the claim is committed. */
	for (int i = 0; i < n; i++)
		if (claimed[i])
			fc_batch_add(batch, &claimed[i]->pair);
}

/* Store what the batch decided, each outcome as soon as it is known. */
static void
store_decided(FcPair **decided, int ndecided)
{
	begin_sql("facecompare worker: storing outcomes");
	for (int i = 0; i < ndecided; i++)
		store_outcome((Running *) decided[i]);
	end_sql();
	for (int i = 0; i < ndecided; i++)
		release((Running *) decided[i]);
}

/*
 * The batch the requests run in, made when there is work; NULL, with the
 * reason logged once, while no credentials are set.
 */
static FcBatch *
make_batch(MemoryContext batch_context, bool *warned)
{
	MemoryContext old = MemoryContextSwitchTo(batch_context);
	FcError		error;
	FcBatch    *batch = fc_batch_create(&error);

	if (batch == NULL && !*warned)
		ereport(LOG,
				(errmsg("facecompare worker: %s; queued requests wait", error.message),
				 error.hint ? errhint("%s", error.hint) : 0));
	*warned = batch == NULL;
	if (batch == NULL)
		MemoryContextReset(batch_context);
	MemoryContextSwitchTo(old);
	return batch;
}

void
facecompare_worker_main(Datum arg)
{
	MemoryContext worker_context;
	MemoryContext batch_context;
	FcBatch    *batch = NULL;
	FcPair	   *decided[FC_MAX_CONCURRENCY];
	bool		recovered = false;
	bool		warned_credentials = false;
	TimestampTz last_expired = 0;
	TimestampTz next_claim = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(fc_worker_database, NULL, 0);
	pin_session_settings();
	publish_latch();
	worker_context = AllocSetContextCreate(TopMemoryContext, "facecompare worker",
										   ALLOCSET_DEFAULT_SIZES);
	batch_context = AllocSetContextCreate(TopMemoryContext, "facecompare worker batch",
										  ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		int			limit = Min(fc_max_concurrency, FC_MAX_CONCURRENCY);
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* New credentials or endpoint: a new batch once this one is idle. */
			if (batch && fc_batch_undecided(batch) == 0)
			{
				MemoryContextReset(batch_context);
				batch = NULL;
			}
			else if (batch)
			{
				FcError		error;

				/* Without credentials now, the running requests keep the old ones. */
				if (!fc_batch_reconfigure(batch, &error))
					ereport(LOG,
							(errmsg("facecompare worker: %s; requests already claimed keep the previous settings",
									error.message)));
			}
			next_claim = 0;
		}
		if (take_work_queued())
			next_claim = 0;

		now = GetCurrentTimestamp();
		if (nrunning < limit && now >= next_claim)
		{
			begin_sql("facecompare worker: looking for requests");
			if (!queue_exists())
			{
				end_sql();
				next_claim = TimestampTzPlusMilliseconds(now, IDLE_POLL_MS);
			}
			else
			{
				if (!recovered)
				{
					recover_interrupted();
					recovered = true;
				}
				/* Every minute, or twice per retention period if shorter. */
				if (fc_retention_s > 0 &&
					TimestampDifferenceExceeds(last_expired, now,
											   (int) Min((int64) EXPIRE_EVERY_MS, fc_retention_s * (int64) 500)))
				{
					expire_finished();
					last_expired = now;
				}
				if (batch == NULL)
					batch = make_batch(batch_context, &warned_credentials);
				if (batch)
					claim(limit - nrunning, batch, worker_context, &next_claim);
				else
				{
					end_sql();
					next_claim = TimestampTzPlusMilliseconds(now, IDLE_POLL_MS);
				}
			}
		}

		if (nrunning > 0)
		{
			int			ndecided;

			pgstat_report_activity(STATE_RUNNING, "facecompare worker: running requests");
			ndecided = fc_batch_step(batch, STEP_MS, decided);
			if (ndecided > 0)
				store_decided(decided, ndecided);
			continue;
		}

		/* Nothing running: sleep until woken, or until work is due. */
		pgstat_report_activity(STATE_IDLE, NULL);
		now = GetCurrentTimestamp();
		if (next_claim > now)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Min(IDLE_POLL_MS, (next_claim - now + 999) / 1000),
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
