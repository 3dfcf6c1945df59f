/*
 * queue.c
 *		The enqueuing side of facecompare.request: the verify_upload trigger,
 *		and the wake-up the worker gets when an enqueuing transaction commits.
 *
 * The trigger runs once per inserted upload, inside the uploader's
 * transaction, so it does as little as it can: no image is read or copied,
 * only where the upload is; the worker reads the images when it runs.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "request.h"
#include "sharedstate.h"
#include "worker.h"

#define VERIFY_UPLOAD_USAGE \
	"Use it as AFTER INSERT ... FOR EACH ROW EXECUTE FUNCTION " \
	"facecompare.verify_upload('source column', 'target column' [, 'key column'])."

/* Set when this transaction queued work; acted on when it ends. */
static bool wake_at_commit = false;
static bool wake_callback_registered = false;
static bool warned_no_worker = false;

static void
wake_worker_on_commit(XactEvent event, void *arg)
{
	Latch	   *latch = NULL;

	if (!wake_at_commit)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (fc_shared)
			{
				SpinLockAcquire(&fc_shared->mutex);
				latch = fc_shared->worker_latch;
				SpinLockRelease(&fc_shared->mutex);
			}
			if (latch)
				SetLatch(latch);
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/* Prepared: the worker's polling finds it once it commits. */
			wake_at_commit = false;
			break;
		default:
			break;
	}
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

PG_FUNCTION_INFO_V1(facecompare_wake_worker_at_commit);
Datum
facecompare_wake_worker_at_commit(PG_FUNCTION_ARGS)
{
	wake_worker_at_commit();
	PG_RETURN_VOID();
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

/* Ensure an image column holds bytes (bytea) or a URL (text). */
static void
check_image_column(Relation rel, const char *name, const char *upload)
{
	AttrNumber	attnum = named_column(rel, name, upload);
	Oid			type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid);

	if (type != BYTEAOID && type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of %s is of type %s, not bytea (image bytes) or text (image URL)",
						name, upload, format_type_be(type)),
				 errhint(VERIFY_UPLOAD_USAGE)));
}

/* The column of the table's single-column primary key. */
static AttrNumber
primary_key_column(Relation rel, const char *upload)
{
	Oid			index = RelationGetPrimaryKeyIndex(rel);
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

/* Queue the request: where the upload is, never its images. */
static void
insert_request(const char *upload, const char *key_column, const char *key,
			   const char *source_column, const char *target_column)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[6];

	if (plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare("INSERT INTO facecompare.request"
										   " (upload_table, upload_key_column, upload_key,"
										   "  source_column, target_column, merchant_biz_id)"
										   " VALUES ($1, $2, $3, $4, $5, $6)",
										   6, types);

		if (prepared == NULL || SPI_keepplan(prepared) != 0)
			elog(ERROR, "could not prepare the facecompare queue insert: %s",
				 SPI_result_code_string(SPI_result));
		plan = prepared;
	}
	values[0] = CStringGetTextDatum(upload);
	values[1] = CStringGetTextDatum(key_column);
	values[2] = CStringGetTextDatum(key);
	values[3] = CStringGetTextDatum(source_column);
	values[4] = CStringGetTextDatum(target_column);
	values[5] = CStringGetTextDatum(fc_new_merchant_biz_id());
	if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the facecompare request");
}

/*
 * facecompare.verify_upload(source column, target column [, key column]):
 * AFTER INSERT (or UPDATE) row trigger that queues the row's two images.
 */
PG_FUNCTION_INFO_V1(facecompare_verify_upload);
Datum
facecompare_verify_upload(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	HeapTuple	row;
	char	   *upload;
	AttrNumber	key_attnum;
	char	   *key;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)) ||
		trigdata->tg_trigger->tgnargs < 2 || trigdata->tg_trigger->tgnargs > 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("facecompare.verify_upload() must be an AFTER INSERT or UPDATE row trigger with two or three column names"),
				 errhint(VERIFY_UPLOAD_USAGE)));
	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	row = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	upload = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										RelationGetRelationName(rel));

	/* A trigger that names the wrong columns fails the insert at once. */
	check_image_column(rel, trigger->tgargs[0], upload);
	check_image_column(rel, trigger->tgargs[1], upload);
	key_attnum = trigger->tgnargs == 3
		? named_column(rel, trigger->tgargs[2], upload)
		: primary_key_column(rel, upload);
	key = SPI_getvalue(row, RelationGetDescr(rel), key_attnum);
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the upload's key column \"%s\" is NULL",
						NameStr(TupleDescAttr(RelationGetDescr(rel), key_attnum - 1)->attname)),
				 errdetail("facecompare.verify_upload() identifies each upload by its key.")));

	SPI_connect();
	insert_request(upload,
				   NameStr(TupleDescAttr(RelationGetDescr(rel), key_attnum - 1)->attname),
				   key, trigger->tgargs[0], trigger->tgargs[1]);
	SPI_finish();
	wake_worker_at_commit();
	return PointerGetDatum(NULL);
}
