/*
 * worker.c
 *		The queue's background worker.  It claims pending requests of
 *		facecompare.request (FOR UPDATE SKIP LOCKED), runs them as one batch
 *		within facecompare.max_concurrency and max_qps, stores each outcome
 *		and sends NOTIFY facecompare_done '<id>' for each finished request.
 *
 * A claim is committed (status running) before any request is sent, and the
 * outcomes are committed after.  A crash in between leaves rows running;
 * the next worker puts them back to pending when it starts, so every request
 * ends done or failed exactly once (though the service may see it twice).
 */
#include "postgres.h"

#include <limits.h>

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
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "batch.h"
#include "call.h"
#include "settings.h"
#include "sharedstate.h"
#include "worker.h"

/* An idle worker still looks this often, for work nobody woke it for. */
#define IDLE_POLL_MS 10000
/* Due work it could not claim is locked by someone else: look again soon. */
#define LOCKED_POLL_MS 1000
/* Old rows are deleted at most this often, at most this many at a time. */
#define EXPIRE_EVERY_MS 60000
#define EXPIRE_BATCH 10000
/* After the worker exits with an error, the postmaster restarts it so late. */
#define RESTART_SECONDS 5

char	   *fc_worker_database = "";
static int	worker_max_attempts = 5;
static bool keep_images = false;
static int	retention_s = 0;

/* A claimed request, as the claim returned it. */
typedef struct Claimed
{
	int64		id;
	int			attempts;		/* times claimed, this one included */
	/* from verify_upload: where to read the images (else all NULL) */
	char	   *upload_table;
	char	   *key_column;
	char	   *key;
	char	   *source_column;
	char	   *target_column;
} Claimed;

void
fc_worker_init(void)
{
	BackgroundWorker worker = {0};

	DefineCustomIntVariable("facecompare.worker_max_attempts",
							"Most times the worker runs a queued request before marking it failed.",
							"Each run is up to 1 + facecompare.max_retries HTTP requests.  An error that trying again cannot mend fails the request at once.",
							&worker_max_attempts, 5, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("facecompare.keep_images",
							 "Keep a queued request's image bytes once it has finished.",
							 "Off: images are biometric data, dropped from facecompare.request as soon as a request is done or failed.",
							 &keep_images, false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("facecompare.retention",
							"How long finished requests stay in facecompare.request (0: for ever).",
							"The worker deletes done and failed requests that finished longer ago than this.",
							&retention_s, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	/* A postmaster setting can only be defined while preloading. */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomStringVariable("facecompare.worker_database",
							   "Database whose queue (facecompare.request) the background worker runs; empty: no worker.",
							   "Needs facecompare in shared_preload_libraries.  The worker waits until the extension is installed in that database.",
							   &fc_worker_database, "",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	if (fc_worker_database[0] == '\0')
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

/* Open a transaction with a snapshot for SPI; end_sql commits it. */
static void
begin_sql(const char *activity)
{
	if (!IsTransactionState())
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
	}
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_sql(void)
{
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
 * Requests left running by a worker that stopped (crash, shutdown, error)
 * go back to pending; those out of attempts fail, saying why.
 */
static void
recover_interrupted(void)
{
	Oid			types[2] = {INT4OID, BOOLOID};
	Datum		values[2] = {Int32GetDatum(worker_max_attempts), BoolGetDatum(keep_images)};
	int			requeued = 0;

	run_sql("UPDATE facecompare.request SET "
			" status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'pending' END::facecompare.request_status,"
			" not_before = now(),"
			" finished_at = CASE WHEN attempts >= $1 THEN now() END,"
			" error_sqlstate = CASE WHEN attempts >= $1 THEN '58000' ELSE error_sqlstate END,"
			" error_code = CASE WHEN attempts >= $1 THEN NULL ELSE error_code END,"
			" error_message = CASE WHEN attempts >= $1"
			"  THEN format('the facecompare worker stopped while running attempt %s of %s', attempts, $1)"
			"  ELSE error_message END,"
			" source_image = CASE WHEN attempts < $1 OR $2 THEN source_image END,"
			" target_image = CASE WHEN attempts < $1 OR $2 THEN target_image END "
			"WHERE status = 'running' RETURNING id, status = 'failed'",
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
	Datum		values[2] = {Int32GetDatum(retention_s), Int32GetDatum(EXPIRE_BATCH)};

	run_sql("DELETE FROM facecompare.request WHERE id IN ("
			" SELECT id FROM facecompare.request"
			" WHERE status IN ('done', 'failed') AND finished_at < now() - make_interval(secs => $1)"
			" LIMIT $2)",
			2, types, values, NULL, SPI_OK_DELETE);
	if (SPI_processed > 0)
		ereport(DEBUG1,
				(errmsg("facecompare worker: deleted %llu requests older than facecompare.retention",
						(unsigned long long) SPI_processed)));
}

/* One side of a pair from a column's value: bytea is bytes, text a URL. */
static void
set_side(FcImageArg *side, const char *name, Datum value, Oid type)
{
	side->side = name;
	side->is_url = (type != BYTEAOID);
	if (side->is_url)
		side->url = TextDatumGetCString(value);
	else
	{
		bytea	   *bytes = DatumGetByteaPCopy(value);

		side->bytes = VARDATA(bytes);
		side->len = VARSIZE(bytes) - VARHDRSZ;
	}
}

/* The side stored in the queue itself: its bytes, else its URL. */
static void
set_queued_side(FcImageArg *side, const char *name, HeapTuple row, TupleDesc desc,
				int image_column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(row, desc, image_column, &isnull);

	if (isnull)
		set_side(side, name, SPI_getbinval(row, desc, image_column + 1, &isnull), TEXTOID);
	else
		set_side(side, name, value, BYTEAOID);
}

/*
 * Read an upload's two image columns.  As the table's owner, in a restricted
 * security context: the lookup may run the owner's code (a domain's check,
 * say), which must not run as the worker's superuser.
 */
static void
read_upload_images(const Claimed *c, FcPair *p, MemoryContext context)
{
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(c->upload_table)),
										 AccessShareLock, false);
	AttrNumber	key_attnum = get_attnum(relid, c->key_column);
	HeapTuple	class_tuple;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(c->key)};
	char	   *sql;
	const char *sides[2] = {"source", "target"};
	FcImageArg *args[2] = {&p->source, &p->target};

	if (key_attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s, the upload's key, no longer exists",
						c->key_column, c->upload_table)));
	class_tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(class_tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(class_tuple))->relowner;
	ReleaseSysCache(class_tuple);

	sql = psprintf("SELECT %s, %s FROM %s WHERE %s = $1::%s",
				   quote_identifier(c->source_column), quote_identifier(c->target_column),
				   c->upload_table, quote_identifier(c->key_column),
				   format_type_be_qualified(get_atttype(relid, key_attnum)));
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_RESTRICTED_OPERATION);
	run_sql(sql, 1, types, values, NULL, SPI_OK_SELECT);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the upload %s %s = %s no longer exists",
						c->upload_table, quote_identifier(c->key_column), c->key)));

	for (int i = 0; i < 2; i++)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		MemoryContext old;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s image is NULL", sides[i]),
					 errdetail("Column \"%s\" of the upload is NULL.",
							   i == 0 ? c->source_column : c->target_column)));
		old = MemoryContextSwitchTo(context);
		set_side(args[i], sides[i], value, getBaseType(SPI_gettypeid(SPI_tuptable->tupdesc, i + 1)));
		MemoryContextSwitchTo(old);
	}
}

/*
 * read_upload_images() in a subtransaction: an upload that is gone, or a
 * column that changed, fails its request, not the worker.
 */
static void
read_upload(const Claimed *c, FcPair *p, MemoryContext context)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		read_upload_images(c, p, context);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		/* Also restores the user id and security context. */
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		p->invalid = true;
		p->error.sqlstate = pstrdup(unpack_sql_state(error->sqlerrcode));
		p->error.message = error->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = resowner;
}

/*
 * Mark up to limit due requests running and copy them into context as
 * pairs, checked and ready for fc_batch_run.  Returns how many.
 */
static int
claim(int limit, MemoryContext context, FcPair **pairs, Claimed **claimed)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(limit)};
	MemoryContext old;
	int			n;

	run_sql("UPDATE facecompare.request SET status = 'running', attempts = attempts + 1, started_at = now() "
			"WHERE id IN (SELECT id FROM facecompare.request"
			"             WHERE status = 'pending' AND not_before <= now()"
			"             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) "
			"RETURNING id, attempts, merchant_biz_id, source_image, source_url, target_image, target_url,"
			" upload_table, upload_key_column, upload_key, source_column, target_column",
			1, types, values, NULL, SPI_OK_UPDATE_RETURNING);
	n = (int) SPI_processed;
	old = MemoryContextSwitchTo(context);
	*pairs = palloc0(sizeof(FcPair) * Max(n, 1));
	*claimed = palloc0(sizeof(Claimed) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Claimed    *c = &(*claimed)[i];
		FcPair	   *p = &(*pairs)[i];
		bool		isnull;

		c->id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		c->attempts = DatumGetInt32(SPI_getbinval(row, desc, 2, &isnull));
		p->merchant_biz_id = SPI_getvalue(row, desc, 3);
		c->upload_table = SPI_getvalue(row, desc, 8);
		if (c->upload_table == NULL)
		{
			set_queued_side(&p->source, "source", row, desc, 4);
			set_queued_side(&p->target, "target", row, desc, 6);
			continue;
		}
		c->key_column = SPI_getvalue(row, desc, 9);
		c->key = SPI_getvalue(row, desc, 10);
		c->source_column = SPI_getvalue(row, desc, 11);
		c->target_column = SPI_getvalue(row, desc, 12);
	}
	/* Now that the claim's rows are copied, SPI may run other queries. */
	for (int i = 0; i < n; i++)
	{
		if ((*claimed)[i].upload_table)
			read_upload(&(*claimed)[i], &(*pairs)[i], context);
		fc_batch_check_pair(&(*pairs)[i]);
	}
	MemoryContextSwitchTo(old);
	return n;
}

/* Milliseconds until the next pending request is due (IDLE_POLL_MS if none). */
static long
ms_until_next_due(void)
{
	bool		isnull;
	Datum		ms;

	run_sql("SELECT (extract(epoch FROM min(not_before) - now()) * 1000)::int8"
			" FROM facecompare.request WHERE status = 'pending'",
			0, NULL, NULL, NULL, SPI_OK_SELECT);
	ms = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return IDLE_POLL_MS;
	if (DatumGetInt64(ms) <= 0)
		return LOCKED_POLL_MS;
	return (long) Min(DatumGetInt64(ms), IDLE_POLL_MS);
}

#define OUTCOME_NARGS 12

/* Store a pair's outcome: done, failed, or pending again for a later try. */
static void
store_outcome(const Claimed *c, const FcPair *p)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[OUTCOME_NARGS] = {INT8OID, TEXTOID, FLOAT8OID, TEXTOID, BOOLOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, BOOLOID};
	Datum		values[OUTCOME_NARGS] = {0};
	char		nulls[OUTCOME_NARGS];
	const char *status;
	double		retry_ms = 0;

	if (plan == NULL)
	{
		plan = SPI_prepare("UPDATE facecompare.request SET"
						   " status = $2::facecompare.request_status,"
						   " not_before = now() + make_interval(secs => $3 / 1000),"
						   " finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE clock_timestamp() END,"
						   " transaction_id = $4, passed = $5, score = $6::numeric, request_id = $7,"
						   " error_sqlstate = $8, error_code = $9, error_message = $10, latency_ms = $11,"
						   " source_image = CASE WHEN $2 = 'pending' OR $12 THEN source_image END,"
						   " target_image = CASE WHEN $2 = 'pending' OR $12 THEN target_image END "
						   "WHERE id = $1 AND status = 'running'",
						   OUTCOME_NARGS, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "facecompare worker: could not prepare the outcome update: %s",
				 SPI_result_code_string(SPI_result));
	}

	if (p->ok)
		status = "done";
	else if (p->retryable && c->attempts < worker_max_attempts)
	{
		status = "pending";
		retry_ms = fc_backoff_delay_ms(fc_max_retries + c->attempts, p->throttled);
	}
	else
		status = "failed";

	memset(nulls, 'n', sizeof(nulls));
#define SET_ARG(i, datum) do { values[(i) - 1] = (datum); nulls[(i) - 1] = ' '; } while (0)
#define SET_TEXT(i, str) do { if (str) SET_ARG(i, CStringGetTextDatum(str)); } while (0)
	SET_ARG(1, Int64GetDatum(c->id));
	SET_TEXT(2, status);
	SET_ARG(3, Float8GetDatum(retry_ms));
	if (p->ok)
	{
		SET_TEXT(4, p->verdict.transaction_id);
		SET_ARG(5, BoolGetDatum(p->verdict.passed));
		SET_TEXT(6, p->verdict.score);
		SET_TEXT(7, p->verdict.request_id);
	}
	SET_TEXT(8, p->error.sqlstate);
	SET_TEXT(9, p->error.code);
	SET_TEXT(10, p->error.message);
	if (p->first_sent_at != 0)
		SET_ARG(11, Float8GetDatum((p->decided_at - p->first_sent_at) / 1000.0));
	SET_ARG(12, BoolGetDatum(keep_images));
#undef SET_TEXT
#undef SET_ARG

	if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "facecompare worker: could not store the outcome of request " INT64_FORMAT, c->id);
	/* Gone or no longer running (deleted, reset by hand): nothing to tell. */
	if (SPI_processed == 1 && strcmp(status, "pending") != 0)
		notify_finished(c->id);
}

/*
 * One round: claim due requests, run them, store their outcomes.  Returns
 * how long to sleep before the next round (0: go on at once).
 */
static long
work_once(MemoryContext context, bool *recovered, TimestampTz *last_expired)
{
	int			limit = 2 * Min(fc_max_concurrency, FC_MAX_CONCURRENCY);
	FcPair	   *pairs;
	Claimed    *claimed;
	int			n;
	long		sleep_ms = 0;
	MemoryContext old;

	begin_sql("facecompare worker: looking for requests");
	if (!queue_exists())
	{
		end_sql();
		return IDLE_POLL_MS;
	}
	if (!*recovered)
	{
		recover_interrupted();
		*recovered = true;
	}
	/* Every minute, or twice per retention period if that is shorter. */
	if (retention_s > 0 &&
		TimestampDifferenceExceeds(*last_expired, GetCurrentTimestamp(),
								   (int) Min((int64) EXPIRE_EVERY_MS, retention_s * (int64) 500)))
	{
		expire_finished();
		*last_expired = GetCurrentTimestamp();
	}
	n = claim(limit, context, &pairs, &claimed);
	if (n == 0)
		sleep_ms = ms_until_next_due();
	end_sql();
	if (n == 0)
		return sleep_ms;

	/* The claim is committed: the requests are running, visibly. */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "facecompare worker: running requests");
	old = MemoryContextSwitchTo(context);
	fc_batch_run(pairs, n, false);
	MemoryContextSwitchTo(old);

	begin_sql("facecompare worker: storing outcomes");
	for (int i = 0; i < n; i++)
		store_outcome(&claimed[i], &pairs[i]);
	end_sql();
	return 0;
}

void
facecompare_worker_main(Datum arg)
{
	MemoryContext context;
	bool		recovered = false;
	TimestampTz last_expired = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(fc_worker_database, NULL, 0);
	publish_latch();
	context = AllocSetContextCreate(TopMemoryContext, "facecompare worker round",
									ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		sleep_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		sleep_ms = work_once(context, &recovered, &last_expired);
		MemoryContextReset(context);
		if (sleep_ms > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 sleep_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}
