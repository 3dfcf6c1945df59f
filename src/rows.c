/*
 * rows.c
 *		facecompare.compare_rows(query): compare the pairs a query returns,
 *		many at once, in memory that does not grow with the number of rows.
 *
 * compare_many() takes arrays, so a table of photos is held whole, twice
 * (the arrays and their deconstructed copies).  Here the query is read
 * through an SPI cursor a few rows at a time, into one batch (batch.c) that
 * stays open: at most 2 x max_concurrency pairs are held, half of them in
 * flight, and as each pair is decided its row goes into the result and its
 * photos are freed, and the next rows are fetched.
 *
 * The query runs as the caller, like any query the caller types: this
 * function is not SECURITY DEFINER and SPI runs the text with the current
 * user's rights.  It must be one plain SELECT (no data-modifying WITH, no
 * FOR UPDATE), and runs read-only within the caller's snapshot.
 *
 * Materialize mode: the whole query is read in one call, and the result
 * tuplestore holds only the small result rows (it spills to disk past
 * work_mem).  Rows come in the order pairs are decided; each carries its
 * input row's ordinal and key.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "batch.h"
#include "fcerror.h"
#include "pgcompat.h"
#include "redact.h"
#include "request.h"
#include "result.h"
#include "rows.h"
#include "settings.h"

/* Columns before facecompare.result's: ordinal and key. */
#define ROWS_LEADING_COLUMNS 2

/* The query's columns, in order. */
enum
{
	QUERY_KEY,
	QUERY_SOURCE,
	QUERY_TARGET,
	QUERY_MERCHANT_BIZ_ID
};

/* One input row while it is held: its pair, and the memory it owns. */
typedef struct RowPair
{
	FcPair		pair;			/* first: the batch hands back FcPair pointers */
	int64		ordinal;		/* the row's place in the query's output, from 1 */
	char	   *key;			/* the key column as text; NULL when NULL */
	MemoryContext context;		/* this struct, its photos and its outcome */
} RowPair;

/* What one run of compare_rows() keeps. */
typedef struct RowsRun
{
	ReturnSetInfo *rsinfo;
	MemoryContext parent;		/* each RowPair's context is a child */
	Oid			key_output;		/* output function of the key's type */
	bool		source_is_url;
	bool		target_is_url;
	bool		has_id;
	bool		face_quality_check;
	int64		nread;
} RowsRun;

/* Set while the query's code runs (fetching): see fc_rows_check_not_reading. */
static bool reading_rows = false;

void
fc_rows_check_not_reading(void)
{
	if (reading_rows)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the query of compare_rows() cannot call facecompare comparisons itself"),
				 errdetail("compare_rows() sends the pairs its query returns; the query only selects them."),
				 errhint("Select the photos in the query and let compare_rows() compare them.")));
}

/* Ensure the query is one plain SELECT: reading it must change nothing. */
static void
check_read_only(SPIPlanPtr plan)
{
	List	   *sources = SPI_plan_get_plan_sources(plan);
	CachedPlanSource *source;
	ListCell   *lc;

	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the query of compare_rows() must be one SELECT"),
				 errdetail("The text given holds %d statements.", list_length(sources))));
	source = linitial(sources);
	foreach(lc, source->query_list)
	{
		Query	   *query = lfirst_node(Query, lc);

		if (query->commandType != CMD_SELECT || query->utilityStmt != NULL ||
			query->hasModifyingCTE || query->rowMarks != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the query of compare_rows() must be a read-only SELECT"),
					 errdetail("It is %s; compare_rows() reads rows and changes nothing.",
							   source->commandTag == CMDTAG_SELECT
							   ? "a SELECT that locks or modifies rows"
							   : GetCommandTagName(source->commandTag)),
					 errhint("Select the rows to compare, and store the results with INSERT ... SELECT ... FROM facecompare.compare_rows(...).")));
	}
}

/* Is a column of the query text-like (text, varchar, or a domain over one)? */
static bool
is_text_type(Oid type)
{
	type = getBaseType(type);
	return type == TEXTOID || type == VARCHAROID;
}

/* Ensure a photo column is bytea (the picture) or text (its URL). */
static bool
photo_column(TupleDesc desc, int col, const char *name)
{
	Oid			type = TupleDescAttr(desc, col)->atttypid;

	if (is_text_type(type))
		return true;
	if (getBaseType(type) != BYTEAOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column %d (%s) of the query of compare_rows() is of type %s",
						col + 1, name, format_type_be(type)),
				 errdetail("The %s must be bytea (the picture's bytes) or text (its http/https URL).", name),
				 errhint("Cast the column, for example %s::bytea or %s::text.", name, name)));
	return false;
}

/* Ensure the query returns (key, source, target [, merchant_biz_id]). */
static void
check_columns(RowsRun *run, TupleDesc desc)
{
	bool		varlena;

	if (desc->natts != 3 && desc->natts != 4)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the query of compare_rows() returns %d columns, not 3 or 4", desc->natts),
				 errdetail("It must return (key, source, target) or (key, source, target, merchant_biz_id)."),
				 errhint("The key may be of any type; source and target are bytea or text (URLs); merchant_biz_id is text.")));
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attisdropped)
			elog(ERROR, "a query's result has a dropped column");
	getTypeOutputInfo(TupleDescAttr(desc, QUERY_KEY)->atttypid, &run->key_output, &varlena);
	run->source_is_url = photo_column(desc, QUERY_SOURCE, "source");
	run->target_is_url = photo_column(desc, QUERY_TARGET, "target");
	run->has_id = desc->natts == 4;
	if (run->has_id && !is_text_type(TupleDescAttr(desc, QUERY_MERCHANT_BIZ_ID)->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column 4 (merchant_biz_id) of the query of compare_rows() is of type %s",
						format_type_be(TupleDescAttr(desc, QUERY_MERCHANT_BIZ_ID)->atttypid)),
				 errdetail("The merchant_biz_id must be text (NULL: generated)."),
				 errhint("Cast the column, for example merchant_biz_id::text.")));
}

/* One side's photo, copied into the pair's context: the tuple is freed next. */
static void
take_photo(FcImageArg *image, const char *side, bool is_url, HeapTuple tuple,
		   TupleDesc desc, int col)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, col + 1, &isnull);

	if (!isnull && !is_url)
		value = PointerGetDatum(PG_DETOAST_DATUM_COPY(value));
	fc_image_from_datum(image, side, is_url, value, isnull, false);
}

/* A held pair for one fetched row, checked; its memory is its own. */
static RowPair *
row_pair(RowsRun *run, HeapTuple tuple, TupleDesc desc)
{
	MemoryContext context = AllocSetContextCreate(run->parent, "facecompare compare_rows pair",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(context);
	RowPair    *rp = palloc0(sizeof(RowPair));
	bool		isnull;
	Datum		value;

	rp->context = context;
	rp->pair.context = context;
	rp->ordinal = ++run->nread;
	rp->pair.face_quality_check = run->face_quality_check;
	value = SPI_getbinval(tuple, desc, QUERY_KEY + 1, &isnull);
	if (!isnull)
		rp->key = OidOutputFunctionCall(run->key_output, value);
	take_photo(&rp->pair.source, "source", run->source_is_url, tuple, desc, QUERY_SOURCE);
	take_photo(&rp->pair.target, "target", run->target_is_url, tuple, desc, QUERY_TARGET);
	if (run->has_id)
	{
		value = SPI_getbinval(tuple, desc, QUERY_MERCHANT_BIZ_ID + 1, &isnull);
		if (!isnull)
			rp->pair.merchant_biz_id = TextDatumGetCString(value);
	}
	fc_batch_check_pair(&rp->pair);
	MemoryContextSwitchTo(old);
	return rp;
}

/* A decided pair's row goes into the result; then its memory goes. */
static void
emit(RowsRun *run, RowPair *rp)
{
	MemoryContext old = MemoryContextSwitchTo(rp->context);
	Datum		values[ROWS_LEADING_COLUMNS + RESULT_NCOLUMNS] = {0};
	bool		nulls[ROWS_LEADING_COLUMNS + RESULT_NCOLUMNS];

	values[0] = Int64GetDatum(rp->ordinal);
	nulls[0] = false;
	nulls[1] = rp->key == NULL;
	if (rp->key)
		values[1] = CStringGetTextDatum(rp->key);
	fc_result_columns(&rp->pair, values + ROWS_LEADING_COLUMNS, nulls + ROWS_LEADING_COLUMNS);
	tuplestore_putvalues(run->rsinfo->setResult, run->rsinfo->setDesc, values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(rp->context);
}

/*
 * Fetch up to want rows: each becomes a pair in the batch, or, when it
 * broke a rule or there is no batch (no credentials: *no_batch says why),
 * a row at once.  False at the end of the query.
 */
static bool
fetch_rows(RowsRun *run, Portal portal, long want, FcBatch *batch, const FcError *no_batch)
{
	uint64		nfetched;

	reading_rows = true;
	PG_TRY();
	{
		SPI_cursor_fetch(portal, true, want);
	}
	PG_FINALLY();
	{
		reading_rows = false;
	}
	PG_END_TRY();

	nfetched = SPI_processed;
	for (uint64 i = 0; i < nfetched; i++)
	{
		RowPair    *rp = row_pair(run, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);

		if (!rp->pair.invalid && batch == NULL)
		{
			rp->pair.invalid = true;
			fc_error_copy(&rp->pair.error, no_batch);
		}
		if (rp->pair.invalid)
			emit(run, rp);
		else
			fc_batch_add(batch, &rp->pair);
	}
	SPI_freetuptable(SPI_tuptable);
	return nfetched > 0;
}

/* Read the whole query through the batch, window by window. */
static void
run_rows(RowsRun *run, Portal portal)
{
	int			window = 2 * Min(fc_max_concurrency, FC_MAX_CONCURRENCY);
	FcPair	  **decided = palloc(sizeof(FcPair *) * FC_MAX_CONCURRENCY);
	FcError		no_batch;
	FcBatch    *volatile batch;
	bool		more = true;

	batch = fc_batch_create(&no_batch);
	PG_TRY();
	{
		for (;;)
		{
			int			held = batch ? fc_batch_undecided(batch) : 0;
			int			ndecided;

			CHECK_FOR_INTERRUPTS();
			if (more && held < window)
			{
				more = fetch_rows(run, portal, window - held, batch, &no_batch);
				held = batch ? fc_batch_undecided(batch) : 0;
			}
			if (held == 0)
			{
				if (!more)
					break;
				continue;
			}
			/* At most 100 ms, so cancel is seen however slow the service. */
			ndecided = fc_batch_step(batch, 100, decided);
			for (int i = 0; i < ndecided; i++)
			{
				/* Not one pair's failure (out of memory, no socket): stop. */
				if (decided[i]->error.always_raise)
					fc_raise_error(&decided[i]->error);
				emit(run, (RowPair *) decided[i]);
			}
		}
	}
	PG_FINALLY();
	{
		if (batch)
			fc_batch_abort(batch);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(facecompare_compare_rows);
Datum
facecompare_compare_rows(PG_FUNCTION_ARGS)
{
	RowsRun		run = {0};
	MemoryContext context;
	MemoryContext old;
	SPIPlanPtr	plan;
	Portal		portal;
	char	   *query;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("query must not be NULL")));
	fc_redact_note_image_call();
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* NULL: the setting. */
	run.face_quality_check = PG_ARGISNULL(1) ? fc_face_quality_check : PG_GETARG_BOOL(1);
	InitMaterializedSRF(fcinfo, 0);
	run.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (run.rsinfo->setDesc->natts != ROWS_LEADING_COLUMNS + RESULT_NCOLUMNS)
		elog(ERROR, "compare_rows returns %d columns, expected %d",
			 run.rsinfo->setDesc->natts, ROWS_LEADING_COLUMNS + RESULT_NCOLUMNS);

	/* The batch, the held pairs and the cursor's chunks: gone when we return. */
	context = AllocSetContextCreate(CurrentMemoryContext, "facecompare compare_rows",
									ALLOCSET_DEFAULT_SIZES);
	run.parent = context;

	SPI_connect();
	plan = SPI_prepare_cursor(query, 0, NULL, CURSOR_OPT_NO_SCROLL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
	check_read_only(plan);
	/* read_only: within the caller's snapshot, as a SELECT of its own. */
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	check_columns(&run, portal->tupDesc);

	old = MemoryContextSwitchTo(context);
	run_rows(&run, portal);
	MemoryContextSwitchTo(old);

	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(context);
	return (Datum) 0;
}
