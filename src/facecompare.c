/*
 * facecompare.c
 *		The SQL-callable layer: check arguments, call the service, build the row.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "batch.h"
#include "errors.h"
#include "memo.h"
#include "pgcompat.h"
#include "queue.h"
#include "redact.h"
#include "request.h"
#include "result.h"
#include "settings.h"
#include "sharedstate.h"
#include "worker.h"

FC_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	fc_shmem_init();
	fc_settings_init();
	fc_worker_init();
	fc_queue_init();
	fc_memo_init();
	fc_redact_init();
	fc_warn_if_secrets_exposed();
}

/*
 * A decided pair's error goes up as an ERROR when facecompare.raise_on_error
 * is on, else into its row.
 */
static void
raise_if_wanted(const FcPair *p)
{
	if (!p->ok && fc_raise_on_error)
		fc_raise_error(&p->error);
}

/*
 * The row type of the result, looked up once per query for each FmgrInfo
 * rather than on every row: the expanded "(compare(...)).*" form comes
 * here once per column of every row.
 */
static TupleDesc
result_tupdesc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;
	MemoryContext old;

	if (fcinfo->flinfo->fn_extra)
		return (TupleDesc) fcinfo->flinfo->fn_extra;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	MemoryContextSwitchTo(old);
	if (tupdesc->natts != RESULT_NCOLUMNS)
		elog(ERROR, "facecompare.result has %d columns, expected %d",
			 tupdesc->natts, RESULT_NCOLUMNS);
	fcinfo->flinfo->fn_extra = tupdesc;
	return tupdesc;
}

static Datum
compare_images(FunctionCallInfo fcinfo, bool source_is_url, bool target_is_url)
{
	TupleDesc	tupdesc;
	FcCallIdentity identity;
	HeapTupleHeader result;
	FcPair		pair = {0};
	Datum		values[RESULT_NCOLUMNS] = {0};
	bool		nulls[RESULT_NCOLUMNS];

	fc_redact_note_image_call();
	tupdesc = result_tupdesc(fcinfo);

	/*
	 * The memo first, on the arguments as passed: "(compare(...)).*" comes
	 * here once per result column, and only the first of them should read
	 * the photos out of TOAST (0.3 ms for two 500 kB photos).
	 */
	fc_memo_identify(fcinfo, &identity);
	result = fc_memo_take(fcinfo, &identity);
	if (result != NULL)
		PG_RETURN_HEAPTUPLEHEADER(result);

	fc_image_from_datum(&pair.source, "source", source_is_url,
						PG_GETARG_DATUM(0), PG_ARGISNULL(0), false);
	fc_image_from_datum(&pair.target, "target", target_is_url,
						PG_GETARG_DATUM(1), PG_ARGISNULL(1), false);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		pair.merchant_biz_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	pair.face_quality_check = fc_face_quality_check;
	fc_batch_check_pair(&pair);
	fc_batch_run(&pair, 1);
	raise_if_wanted(&pair);

	fc_result_columns(&pair, values, nulls);
	result = heap_form_tuple(tupdesc, values, nulls)->t_data;
	/* A failed call is remembered too: (compare(...)).* must not retry it. */
	fc_memo_store(fcinfo, &identity, result);
	PG_RETURN_HEAPTUPLEHEADER(result);
}

PG_FUNCTION_INFO_V1(facecompare_compare_bytea_bytea);
Datum
facecompare_compare_bytea_bytea(PG_FUNCTION_ARGS)
{
	return compare_images(fcinfo, false, false);
}

PG_FUNCTION_INFO_V1(facecompare_compare_url_bytea);
Datum
facecompare_compare_url_bytea(PG_FUNCTION_ARGS)
{
	return compare_images(fcinfo, true, false);
}

PG_FUNCTION_INFO_V1(facecompare_compare_bytea_url);
Datum
facecompare_compare_bytea_url(PG_FUNCTION_ARGS)
{
	return compare_images(fcinfo, false, true);
}

PG_FUNCTION_INFO_V1(facecompare_compare_url_url);
Datum
facecompare_compare_url_url(PG_FUNCTION_ARGS)
{
	return compare_images(fcinfo, true, true);
}

/* Elements of a one-dimensional array argument (NULL array: error). */
static int
array_elements(FunctionCallInfo fcinfo, int argno, Oid elemtype, const char *what,
			   Datum **values, bool **nulls)
{
	ArrayType  *array;
	int			n;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", what)));
	array = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(array, elemtype, -1, false, TYPALIGN_INT,
					  values, nulls, &n);
	return n;
}

static Datum
compare_many(FunctionCallInfo fcinfo, bool urls)
{
	Oid			elemtype = urls ? TEXTOID : BYTEAOID;
	Datum	   *sources,
			   *targets,
			   *ids = NULL;
	bool	   *source_nulls,
			   *target_nulls,
			   *id_nulls = NULL;
	int			n;
	int			ntargets;
	FcPair	   *pairs;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	fc_redact_note_image_call();
	n = array_elements(fcinfo, 0, elemtype, "sources", &sources, &source_nulls);
	ntargets = array_elements(fcinfo, 1, elemtype, "targets", &targets, &target_nulls);
	if (ntargets != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sources and targets must have as many elements"),
				 errdetail("sources has %d, targets has %d.", n, ntargets)));
	if (!PG_ARGISNULL(2) &&
		array_elements(fcinfo, 2, TEXTOID, "merchant_biz_ids", &ids, &id_nulls) != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("merchant_biz_ids must have as many elements as sources")));

	/* Each pair is checked on its own: one bad photo does not stop the rest. */
	pairs = palloc0(sizeof(FcPair) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		FcPair	   *p = &pairs[i];

		fc_image_from_datum(&p->source, "source", urls, sources[i], source_nulls[i], false);
		fc_image_from_datum(&p->target, "target", urls, targets[i], target_nulls[i], false);
		if (ids && !id_nulls[i])
			p->merchant_biz_id = TextDatumGetCString(ids[i]);
		p->face_quality_check = fc_face_quality_check;
		fc_batch_check_pair(p);
	}
	fc_batch_run(pairs, n);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[RESULT_NCOLUMNS + 1] = {0};
		bool		nulls[RESULT_NCOLUMNS + 1];

		values[0] = Int32GetDatum(i + 1);
		nulls[0] = false;
		fc_result_columns(&pairs[i], values + 1, nulls + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(facecompare_compare_many_bytea);
Datum
facecompare_compare_many_bytea(PG_FUNCTION_ARGS)
{
	return compare_many(fcinfo, false);
}

PG_FUNCTION_INFO_V1(facecompare_compare_many_url);
Datum
facecompare_compare_many_url(PG_FUNCTION_ARGS)
{
	return compare_many(fcinfo, true);
}

PG_FUNCTION_INFO_V1(facecompare_service_url);
Datum
facecompare_service_url(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(fc_service_base_url()));
}
