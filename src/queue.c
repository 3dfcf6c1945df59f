/*
 * queue.c
 *		The enqueuing side of facecompare.request: enqueue(), the
 *		verify_upload trigger, and the wake-up the worker gets when an
 *		enqueuing transaction commits (COMMIT PREPARED included).
 *
 * Both copy the images into the request when it is queued, so the worker
 * never reads a user's table and never runs a user's code.  They run as
 * their caller and check everything as the caller; only the INSERT into the
 * queue runs as the queue's owner, in a restricted security context with
 * search_path pinned, and it names every object in full.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "errors.h"
#include "image.h"
#include "pgcompat.h"
#include "photo.h"
#include "queue.h"
#include "redact.h"
#include "request.h"
#include "settings.h"
#include "sharedstate.h"

#define VERIFY_UPLOAD_USAGE \
	"Use it as AFTER INSERT ... FOR EACH ROW EXECUTE FUNCTION " \
	"facecompare.verify_upload('source column', 'target column' [, 'key column'])."

/* Set when this transaction queued work; acted on when it ends. */
static bool wake_at_commit = false;
static bool wake_callback_registered = false;
static bool warned_no_worker = false;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* Tell the worker there is new work, if it runs. */
static void
wake_worker(void)
{
	Latch	   *latch = NULL;

	if (fc_shared == NULL)
		return;
	SpinLockAcquire(&fc_shared->mutex);
	fc_shared->work_queued = true;
	latch = fc_shared->worker_latch;
	SpinLockRelease(&fc_shared->mutex);
	if (latch)
		SetLatch(latch);
}

static void
wake_worker_on_commit(XactEvent event, void *arg)
{
	if (!wake_at_commit)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			wake_worker();
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/* Prepared: COMMIT PREPARED wakes the worker (below). */
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

/*
 * COMMIT PREPARED may commit a transaction that queued requests, in a
 * session that knows nothing of them: wake the worker after every one.  A
 * needless wake-up costs the worker one look at the queue.
 */
static void
wake_after_commit_prepared(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						   ProcessUtilityContext context, ParamListInfo params,
						   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	if (IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
		wake_worker();
}

void
fc_queue_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = wake_after_commit_prepared;
}

/* Say once per session when nothing will run this database's queue. */
static void
warn_if_no_worker(void)
{
	char	   *here;

	if (warned_no_worker)
		return;
	warned_no_worker = true;
	here = get_database_name(MyDatabaseId);
	if (fc_shared == NULL)
		ereport(WARNING,
				(errmsg("no facecompare worker runs the queue of database \"%s\"", here),
				 errdetail("facecompare is not in shared_preload_libraries; requests stay pending until a worker runs them."),
				 errhint("Add facecompare to shared_preload_libraries, set facecompare.worker_database = '%s' and restart the server.", here)));
	else if (strcmp(fc_worker_database, here) != 0)
		ereport(WARNING,
				(errmsg("no facecompare worker runs the queue of database \"%s\"", here),
				 fc_worker_database[0] == '\0'
				 ? errdetail("facecompare.worker_database is not set; requests stay pending until a worker runs them.")
				 : errdetail("facecompare.worker_database is \"%s\"; requests stay pending until a worker runs them.",
							 fc_worker_database),
				 errhint("Set facecompare.worker_database = '%s' and restart the server.", here)));
}

/* Wake the worker when this transaction commits (never if it aborts). */
static void
wake_worker_at_commit(void)
{
	warn_if_no_worker();
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_worker_on_commit, NULL);
		wake_callback_registered = true;
	}
	wake_at_commit = true;
}

/*
 * 0.2.0's facecompare.wake_worker_at_commit(), which its install script
 * (and so every install, which goes through it) creates; the update to
 * 0.3.0 drops the function.
 */
PG_FUNCTION_INFO_V1(facecompare_wake_worker_at_commit);
Datum
facecompare_wake_worker_at_commit(PG_FUNCTION_ARGS)
{
	wake_worker_at_commit();
	PG_RETURN_VOID();
}

/* A request to queue: its images and, from the trigger, its upload. */
typedef struct QueuedRequest
{
	Datum		image[2];		/* bytea or text; (Datum) 0 when none */
	bool		is_url[2];
	const char *merchant_biz_id;
	Oid			upload_relid;	/* InvalidOid for enqueue() */
	const char *upload_table;
	const char *key_column;
	const char *key;
	const char *column[2];
	FcError		error;			/* set: record it failed at once */
} QueuedRequest;

#define INSERT_NARGS 17

/*
 * INSERT the request as the queue's owner, returning its id.  The caller's
 * checks are done; what runs here is this statement alone, in a restricted
 * security context with search_path pinned, so nothing of the caller's can
 * run with the owner's rights.
 */
static int64
insert_request(const QueuedRequest *q)
{
	static SPIPlanPtr plans[3] = {NULL, NULL, NULL};
	SPIPlanPtr *plan;
	bool		tenant_columns;
	bool		v040_columns;
	Oid			types[INSERT_NARGS] = {BYTEAOID, TEXTOID, BYTEAOID, TEXTOID, TEXTOID, OIDOID, OIDOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, BOOLOID};
	Datum		values[INSERT_NARGS] = {0};
	char		nulls[INSERT_NARGS];
	Oid			caller = GetUserId();
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			queue_relid;
	HeapTuple	tuple;
	bool		failed = q->error.sqlerrcode != 0;
	bool		isnull;
	int64		id;

	queue_relid = get_relname_relid("request", get_namespace_oid("facecompare", false));
	if (!OidIsValid(queue_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the facecompare queue does not exist"),
				 errhint("Run ALTER EXTENSION facecompare UPDATE.")));
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(queue_relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", queue_relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	memset(nulls, 'n', sizeof(nulls));
#define SET_ARG(i, datum) do { values[(i) - 1] = (datum); nulls[(i) - 1] = ' '; } while (0)
#define SET_TEXT(i, str) do { if (str) SET_ARG(i, CStringGetTextDatum(str)); } while (0)
	for (int side = 0; side < 2 && !failed; side++)
		SET_ARG(1 + 2 * side + (q->is_url[side] ? 1 : 0), q->image[side]);
	SET_TEXT(5, q->merchant_biz_id);
	SET_ARG(6, ObjectIdGetDatum(caller));
	if (OidIsValid(q->upload_relid))
	{
		SET_ARG(7, ObjectIdGetDatum(q->upload_relid));
		SET_TEXT(8, q->upload_table);
		SET_TEXT(9, q->key_column);
		SET_TEXT(10, q->key);
		SET_TEXT(11, q->column[0]);
		SET_TEXT(12, q->column[1]);
	}
	if (failed)
		SET_TEXT(13, fc_error_sqlstate(&q->error));
	SET_TEXT(14, q->error.message);
	SET_ARG(15, BoolGetDatum(failed));
	/* The worker prepares the pictures as the caller's setting says now. */
	SET_TEXT(16, fc_prepare_images == FC_PREPARE_OFF ? "off" :
			 fc_prepare_images == FC_PREPARE_ALWAYS ? "always" : "when_needed");
	/* The session's setting goes with the request: the worker asks for it. */
	SET_ARG(17, BoolGetDatum(fc_face_quality_check));
#undef SET_TEXT
#undef SET_ARG

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* 0.2.0's table, until ALTER EXTENSION UPDATE: who and where go unsaid. */
	tenant_columns = get_attnum(queue_relid, "enqueued_by") != InvalidAttrNumber;
	/*
	 * 0.3.0's table, until updated: no preparation mode (the worker's is off)
	 * and no face_quality_check; the 0.4.0 update adds both.
	 */
	v040_columns = tenant_columns &&
		get_attnum(queue_relid, "prepare_images") != InvalidAttrNumber;
	plan = &plans[tenant_columns + v040_columns];
	if (*plan == NULL)
	{
		char	   *sql = psprintf("INSERT INTO facecompare.request AS r"
								   " (source_image, source_url, target_image, target_url, merchant_biz_id,"
								   "  %s %s upload_table, upload_key_column, upload_key,"
								   "  source_column, target_column, error_sqlstate, error_message,"
								   "  status, finished_at)"
								   " VALUES ($1, $2, $3, $4, $5, %s %s $8, $9, $10, $11, $12, $13, $14,"
								   "  CASE WHEN $15 THEN 'failed' ELSE 'pending' END::facecompare.request_status,"
								   "  CASE WHEN $15 THEN pg_catalog.now() END)"
								   " RETURNING r.id",
								   tenant_columns ? "enqueued_by, upload_relid," : "",
								   v040_columns ? "prepare_images, face_quality_check," : "",
								   tenant_columns ? "$6, $7," : "",
								   v040_columns ? "$16, $17," : "");
		SPIPlanPtr	prepared = SPI_prepare(sql, INSERT_NARGS, types);

		if (prepared == NULL || SPI_keepplan(prepared) != 0)
			elog(ERROR, "could not prepare the facecompare queue insert: %s",
				 SPI_result_code_string(SPI_result));
		*plan = prepared;
	}
	if (SPI_execute_plan(*plan, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not queue the facecompare request");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
	return id;
}

/*
 * The checks of compare(), for both images and the id.  The images are read
 * as their heads and lengths: they are stored, not sent, so a photo stored
 * out of line is not read whole (nor a huge one at all) to be judged.
 */
static bool
check_request(QueuedRequest *q)
{
	FcImageArg	images[2];
	const char *sides[2] = {"source", "target"};

	for (int side = 0; side < 2; side++)
	{
		fc_image_from_datum(&images[side], sides[side], q->is_url[side],
							q->image[side], q->image[side] == (Datum) 0, true);
		images[side].column = q->column[side];
	}
	return fc_check_comparison(&images[0], &images[1], q->merchant_biz_id, &q->error);
}

/*
 * facecompare.enqueue(source, target [, merchant_biz_id]): check the pair as
 * compare() would, queue it, and return the request's id.
 */
static Datum
enqueue(FunctionCallInfo fcinfo, bool source_is_url, bool target_is_url)
{
	QueuedRequest q = {0};
	int64		id;

	/* The statement may hold the images: keep it out of its errors' log lines. */
	fc_redact_note_image_call();
	q.is_url[0] = source_is_url;
	q.is_url[1] = target_is_url;
	for (int side = 0; side < 2; side++)
		if (!PG_ARGISNULL(side))
			q.image[side] = PG_GETARG_DATUM(side);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		q.merchant_biz_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!check_request(&q))
		fc_raise_error(&q.error);
	if (q.merchant_biz_id == NULL)
		q.merchant_biz_id = fc_new_merchant_biz_id();
	id = insert_request(&q);
	wake_worker_at_commit();
	PG_RETURN_INT64(id);
}

PG_FUNCTION_INFO_V1(facecompare_enqueue_bytea_bytea);
Datum
facecompare_enqueue_bytea_bytea(PG_FUNCTION_ARGS)
{
	return enqueue(fcinfo, false, false);
}

PG_FUNCTION_INFO_V1(facecompare_enqueue_url_bytea);
Datum
facecompare_enqueue_url_bytea(PG_FUNCTION_ARGS)
{
	return enqueue(fcinfo, true, false);
}

PG_FUNCTION_INFO_V1(facecompare_enqueue_bytea_url);
Datum
facecompare_enqueue_bytea_url(PG_FUNCTION_ARGS)
{
	return enqueue(fcinfo, false, true);
}

PG_FUNCTION_INFO_V1(facecompare_enqueue_url_url);
Datum
facecompare_enqueue_url_url(PG_FUNCTION_ARGS)
{
	return enqueue(fcinfo, true, true);
}

/* The attribute number of a column the trigger names; raises if none. */
static AttrNumber
named_column(Relation rel, const char *name, const char *upload)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s, named by facecompare.verify_upload(), does not exist",
						name, upload),
				 errhint(VERIFY_UPLOAD_USAGE)));
	return (AttrNumber) attnum;
}

/*
 * An image column's number; raises unless it holds bytes (bytea) or a URL
 * (text, varchar).  *is_url says which.
 */
static AttrNumber
image_column(Relation rel, const char *name, const char *upload, bool *is_url)
{
	AttrNumber	attnum = named_column(rel, name, upload);
	Oid			type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid);

	if (type != BYTEAOID && type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of %s is of type %s, not bytea (image bytes) or text (image URL)",
						name, upload, format_type_be(type)),
				 errhint(VERIFY_UPLOAD_USAGE)));
	*is_url = type != BYTEAOID;
	return attnum;
}

/* The column of the table's single-column primary key. */
static AttrNumber
primary_key_column(Relation rel, const char *upload)
{
	Oid			index = fc_primary_key_index(rel);
	HeapTuple	tuple;
	AttrNumber	attnum = InvalidAttrNumber;

	if (OidIsValid(index))
	{
		tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for index %u", index);
		if (((Form_pg_index) GETSTRUCT(tuple))->indnkeyatts == 1)
			attnum = ((Form_pg_index) GETSTRUCT(tuple))->indkey.values[0];
		ReleaseSysCache(tuple);
	}
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has no single-column primary key to identify uploads by", upload),
				 errhint("Name the key column as the trigger's third argument.")));
	return attnum;
}

/*
 * facecompare.verify_upload(source column, target column [, key column]):
 * AFTER INSERT (or UPDATE) row trigger that queues the row's two images.
 * A trigger set up wrongly fails the insert; a bad picture does not: its
 * request is recorded failed, with the rule it broke.
 */
PG_FUNCTION_INFO_V1(facecompare_verify_upload);
Datum
facecompare_verify_upload(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	row;
	char	   *upload;
	AttrNumber	key_attnum;
	QueuedRequest q = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)) ||
		trigdata->tg_trigger->tgnargs < 2 || trigdata->tg_trigger->tgnargs > 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("facecompare.verify_upload() must be an AFTER INSERT or UPDATE row trigger with two or three column names"),
				 errhint(VERIFY_UPLOAD_USAGE)));
	fc_redact_note_image_call();
	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	row = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	upload = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										RelationGetRelationName(rel));

	/* A trigger that names the wrong columns fails the insert at once. */
	for (int side = 0; side < 2; side++)
	{
		AttrNumber	attnum = image_column(rel, trigger->tgargs[side], upload, &q.is_url[side]);
		bool		isnull;
		Datum		value = heap_getattr(row, attnum, desc, &isnull);

		q.column[side] = trigger->tgargs[side];
		q.image[side] = isnull ? (Datum) 0 : value;
	}
	key_attnum = trigger->tgnargs == 3
		? named_column(rel, trigger->tgargs[2], upload)
		: primary_key_column(rel, upload);
	q.key = SPI_getvalue(row, desc, key_attnum);
	if (q.key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the upload's key column \"%s\" is NULL",
						NameStr(TupleDescAttr(desc, key_attnum - 1)->attname)),
				 errdetail("facecompare.verify_upload() identifies each upload by its key.")));
	q.key_column = NameStr(TupleDescAttr(desc, key_attnum - 1)->attname);
	q.upload_relid = RelationGetRelid(rel);
	q.upload_table = upload;

	/* A bad picture fails its request, never the upload. */
	(void) check_request(&q);
	q.merchant_biz_id = fc_new_merchant_biz_id();
	(void) insert_request(&q);
	if (q.error.sqlerrcode == 0)
		wake_worker_at_commit();
	return PointerGetDatum(NULL);
}
