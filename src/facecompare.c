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
#include "call.h"
#include "errors.h"
#include "memo.h"
#include "queue.h"
#include "redact.h"
#include "request.h"
#include "settings.h"
#include "sharedstate.h"
#include "worker.h"

PG_MODULE_MAGIC;

/* Columns of facecompare.result, in order. */
typedef enum ResultColumn
{
	RESULT_TRANSACTION_ID,
	RESULT_PASSED,
	RESULT_SCORE,
	RESULT_REQUEST_ID,
	RESULT_MERCHANT_BIZ_ID,
	RESULT_ERROR_SQLSTATE,
	RESULT_ERROR_CODE,
	RESULT_ERROR_MESSAGE,
	RESULT_NCOLUMNS
} ResultColumn;

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

/* Read one side's argument into *image, raising 22023 if it is NULL. */
static void
get_image_arg(FunctionCallInfo fcinfo, int argno, bool is_url, const char *side,
			  FcImageArg *image)
{
	image->side = side;
	image->is_url = is_url;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errhidestmt(true),
				 errmsg("%s image is NULL", side),
				 errdetail("FaceCompare needs each image, as bytes (bytea) or as a URL (text)."),
				 errhint("Skip rows that lack an image with WHERE ... IS NOT NULL on both image columns.")));
	if (is_url)
		image->url = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	else
	{
		bytea	   *bytes = PG_GETARG_BYTEA_PP(argno);

		image->bytes = VARDATA_ANY(bytes);
		image->len = VARSIZE_ANY_EXHDR(bytes);
	}
}

/* Call the service and turn its verdict into a facecompare.result datum. */
static HeapTupleHeader
compare_remote(TupleDesc tupdesc, const FcImageArg *source, const FcImageArg *target,
			   const char *merchant_biz_id)
{
	FcResponse	verdict;
	Datum		values[RESULT_NCOLUMNS];
	bool		nulls[RESULT_NCOLUMNS] = {0};

	fc_call(source, target, merchant_biz_id, &verdict);
	nulls[RESULT_ERROR_SQLSTATE] = nulls[RESULT_ERROR_CODE] = nulls[RESULT_ERROR_MESSAGE] = true;

	values[RESULT_TRANSACTION_ID] = CStringGetTextDatum(verdict.transaction_id);
	values[RESULT_PASSED] = BoolGetDatum(verdict.passed);
	values[RESULT_SCORE] = DirectFunctionCall3(numeric_in,
											   CStringGetDatum(verdict.score),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1));
	values[RESULT_REQUEST_ID] = CStringGetTextDatum(verdict.request_id);
	values[RESULT_MERCHANT_BIZ_ID] = CStringGetTextDatum(merchant_biz_id);
	return heap_form_tuple(tupdesc, values, nulls)->t_data;
}

/* One call's arguments and the id it used, kept where an ERROR can't lose them. */
typedef struct CompareCall
{
	FcImageArg	source;
	FcImageArg	target;
	const char *merchant_biz_id;	/* given or generated; NULL before */
	FcCallIdentity identity;	/* the arguments as passed, for the memo */
	bool		identified;
} CompareCall;

static HeapTupleHeader
compare_or_raise(FunctionCallInfo fcinfo, TupleDesc tupdesc, bool source_is_url,
				 bool target_is_url, CompareCall *call)
{
	HeapTupleHeader result;

	/*
	 * The memo first, on the arguments as passed: "(compare(...)).*" comes
	 * here once per result column, and only the first of them should read
	 * the photos out of TOAST (0.3 ms for two 500 kB photos).
	 */
	fc_memo_identify(fcinfo, &call->identity);
	call->identified = true;
	result = fc_memo_take(fcinfo, &call->identity);
	if (result != NULL)
		return result;

	get_image_arg(fcinfo, 0, source_is_url, "source", &call->source);
	get_image_arg(fcinfo, 1, target_is_url, "target", &call->target);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		call->merchant_biz_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
		fc_check_merchant_biz_id(call->merchant_biz_id);
	}
	fc_check_image_arg(&call->source);
	fc_check_image_arg(&call->target);

	if (call->merchant_biz_id == NULL)
		call->merchant_biz_id = fc_new_merchant_biz_id();
	result = compare_remote(tupdesc, &call->source, &call->target, call->merchant_biz_id);
	fc_memo_store(fcinfo, &call->identity, result);
	return result;
}

/* The row for a failed call: no verdict, the error instead. */
static HeapTupleHeader
error_row(TupleDesc tupdesc, const char *merchant_biz_id, const FcCapturedError *error)
{
	Datum		values[RESULT_NCOLUMNS] = {0};
	bool		nulls[RESULT_NCOLUMNS];
	const char *texts[RESULT_NCOLUMNS] = {0};

	memset(nulls, true, sizeof(nulls));
	texts[RESULT_MERCHANT_BIZ_ID] = merchant_biz_id;
	texts[RESULT_ERROR_SQLSTATE] = error->sqlstate;
	texts[RESULT_ERROR_CODE] = error->code;
	texts[RESULT_ERROR_MESSAGE] = error->message;
	for (int i = 0; i < RESULT_NCOLUMNS; i++)
		if (texts[i])
		{
			values[i] = CStringGetTextDatum(texts[i]);
			nulls[i] = false;
		}
	return heap_form_tuple(tupdesc, values, nulls)->t_data;
}

/* compare_or_raise() as a capturable function. */
typedef struct Attempt
{
	FunctionCallInfo fcinfo;
	TupleDesc	tupdesc;
	bool		source_is_url;
	bool		target_is_url;
	CompareCall *call;
	HeapTupleHeader result;
} Attempt;

static void
attempt_compare(void *arg)
{
	Attempt    *a = arg;

	a->result = compare_or_raise(a->fcinfo, a->tupdesc, a->source_is_url,
								 a->target_is_url, a->call);
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
	CompareCall *call = palloc0(sizeof(CompareCall));
	Attempt		attempt;
	FcCapturedError error = {0};

	fc_redact_note_image_call();
	tupdesc = result_tupdesc(fcinfo);

	if (fc_raise_on_error)
		PG_RETURN_HEAPTUPLEHEADER(compare_or_raise(fcinfo, tupdesc, source_is_url,
												   target_is_url, call));

	attempt = (Attempt) {fcinfo, tupdesc, source_is_url, target_is_url, call, NULL};
	if (fc_capture_error(attempt_compare, &attempt, &error))
	{
		attempt.result = error_row(tupdesc, call->merchant_biz_id, &error);
		/* A failed call is remembered too: (compare(...)).* must not retry it. */
		if (call->identified)
			fc_memo_store(fcinfo, &call->identity, attempt.result);
	}
	PG_RETURN_HEAPTUPLEHEADER(attempt.result);
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

/* One side of pair i from its array element. */
static void
pair_side(FcImageArg *side, const char *name, bool is_url, Datum value, bool isnull,
		  FcPair *pair)
{
	side->side = name;
	side->is_url = is_url;
	if (isnull)
	{
		pair->invalid = true;
		pair->error.sqlstate = pstrdup("22023");
		pair->error.message = psprintf("%s image is NULL", name);
		return;
	}
	if (is_url)
		side->url = TextDatumGetCString(value);
	else
	{
		side->bytes = VARDATA_ANY(DatumGetPointer(value));
		side->len = VARSIZE_ANY_EXHDR(DatumGetPointer(value));
	}
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

		pair_side(&p->source, "source", urls, sources[i], source_nulls[i], p);
		if (!p->invalid)
			pair_side(&p->target, "target", urls, targets[i], target_nulls[i], p);
		if (!p->invalid && ids && !id_nulls[i])
			p->merchant_biz_id = TextDatumGetCString(ids[i]);
		fc_batch_check_pair(p);
	}
	fc_batch_run(pairs, n, false);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < n; i++)
	{
		FcPair	   *p = &pairs[i];
		Datum		values[RESULT_NCOLUMNS + 1] = {0};
		bool		nulls[RESULT_NCOLUMNS + 1];

		memset(nulls, true, sizeof(nulls));
		values[0] = Int32GetDatum(i + 1);
		nulls[0] = false;
#define SET_TEXT(col, str) \
		do { if (str) { values[1 + (col)] = CStringGetTextDatum(str); nulls[1 + (col)] = false; } } while (0)
		if (p->ok)
		{
			SET_TEXT(RESULT_TRANSACTION_ID, p->verdict.transaction_id);
			values[1 + RESULT_PASSED] = BoolGetDatum(p->verdict.passed);
			nulls[1 + RESULT_PASSED] = false;
			values[1 + RESULT_SCORE] = DirectFunctionCall3(numeric_in,
														   CStringGetDatum(p->verdict.score),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1));
			nulls[1 + RESULT_SCORE] = false;
			SET_TEXT(RESULT_REQUEST_ID, p->verdict.request_id);
		}
		SET_TEXT(RESULT_MERCHANT_BIZ_ID, p->merchant_biz_id);
		SET_TEXT(RESULT_ERROR_SQLSTATE, p->error.sqlstate);
		SET_TEXT(RESULT_ERROR_CODE, p->error.code);
		SET_TEXT(RESULT_ERROR_MESSAGE, p->error.message);
#undef SET_TEXT
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
