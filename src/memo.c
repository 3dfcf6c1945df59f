/*
 * memo.c
 *		One call for the columns of one "(facecompare.compare(...)).*".
 *
 * PostgreSQL expands "(compare(...)).*" into one FieldSelect per result
 * column, each over its own copy of the call, evaluated through its own
 * FmgrInfo.  Those would be several paid calls with several verdicts in one
 * row.  So the columns of one row share one call, and nothing else does: a
 * wrong shared verdict is worse than a slower query.
 *
 * What makes evaluations "the columns of one row":
 *
 * - The same expansion.  Before planning, copies that sit under FieldSelects
 *   with distinct field numbers and carry the same parse location are the
 *   columns of one written call.  Each such group gets a tag, unique in the
 *   session, stored in place of the location (as a value <= -2, which no
 *   parse location takes).  Anything else keeps its location and never
 *   shares: a bare compare(), two written calls, a call written once in an
 *   SQL function that is inlined twice (inlining happens during planning,
 *   after the tags), BETWEEN's and IN's copies (one field number twice).
 *
 * - The same row.  Executor nodes evaluate a row's expressions with
 *   CurrentMemoryContext set to their per-tuple context and reset it before
 *   the next row; PL/pgSQL resets its evaluation context after each
 *   statement.  The memo is kept in that context and forgotten when it is
 *   reset or deleted, so no row, statement or cursor fetch sees another's.
 *
 * - Each FmgrInfo takes the memo at most once; one that comes back is
 *   computing a new row, and calls.
 *
 * Arguments are compared exactly, never by a hash that two different photos
 * could share.  A value stored out of line is known by its TOAST pointer,
 * which names one immutable value while it exists, so a 1 MB photo costs an
 * 18-byte comparison and is not even read to decide.  Any other value is
 * compared byte for byte.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "optimizer/planner.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "memo.h"

#define MEMO_MAX_READERS 16

/* Parse locations are >= 0 or -1 (unknown); tags take the values below. */
#define TAG_IS_VALID(location) ((location) <= -2)

typedef struct CallSiteMemo
{
	bool		valid;
	MemoryContext row_context;	/* the memo lives and dies with it */
	MemoryContext query_context;	/* fn_mcxt of the FmgrInfo that called */
	Oid			fn_oid;
	int			tag;
	uint64		guard;			/* which reset callback forgets this memo */
	FcCallIdentity identity;	/* copies, in row_context */
	HeapTupleHeader tuple;		/* the verdict, in row_context */
	FmgrInfo   *readers[MEMO_MAX_READERS];	/* who has taken it */
	int			nreaders;
} CallSiteMemo;

/* A reset callback that knows which memo it was registered for. */
typedef struct MemoGuard
{
	MemoryContextCallback callback;
	uint64		guard;
} MemoGuard;

static CallSiteMemo memo;
static uint64 last_guard = 0;
static uint32 last_tag = 0;
static planner_hook_type prev_planner_hook = NULL;

/* A copy of compare() found before planning. */
typedef struct FoundCall
{
	FuncExpr   *call;
	AttrNumber	fieldnum;		/* of the FieldSelect over it, 0 if none */
} FoundCall;

typedef struct FindCalls
{
	FoundCall  *calls;
	int			ncalls;
	int			maxcalls;
	int			nselected;		/* calls under a FieldSelect */
} FindCalls;

static const char *const compare_symbols[] = {
	"facecompare_compare_bytea_bytea",
	"facecompare_compare_url_bytea",
	"facecompare_compare_bytea_url",
	"facecompare_compare_url_url",
};

static void
add_call(FindCalls *found, FuncExpr *call, AttrNumber fieldnum)
{
	if (call->location < 0)
		return;
	if (found->ncalls == found->maxcalls)
	{
		found->maxcalls = found->maxcalls ? found->maxcalls * 2 : 16;
		found->calls = found->calls
			? repalloc(found->calls, found->maxcalls * sizeof(FoundCall))
			: palloc(found->maxcalls * sizeof(FoundCall));
	}
	found->calls[found->ncalls].call = call;
	found->calls[found->ncalls].fieldnum = fieldnum;
	found->ncalls++;
	if (fieldnum > 0)
		found->nselected++;
}

static bool
find_calls(Node *node, FindCalls *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, find_calls, found, 0);
	if (IsA(node, FieldSelect) && IsA(((FieldSelect *) node)->arg, FuncExpr))
	{
		FuncExpr   *call = (FuncExpr *) ((FieldSelect *) node)->arg;

		add_call(found, call, ((FieldSelect *) node)->fieldnum);
		return expression_tree_walker((Node *) call->args, find_calls, found);
	}
	if (IsA(node, FuncExpr))
		add_call(found, (FuncExpr *) node, 0);
	return expression_tree_walker(node, find_calls, found);
}

static int
found_call_cmp(const void *a, const void *b)
{
	const FoundCall *x = a;
	const FoundCall *y = b;

	if (x->call->location != y->call->location)
		return x->call->location < y->call->location ? -1 : 1;
	if (x->call->funcid != y->call->funcid)
		return x->call->funcid < y->call->funcid ? -1 : 1;
	return (int) x->fieldnum - (int) y->fieldnum;
}

/* Is this one of the four compare() functions, by their C symbols? */
static bool
is_compare_function(Oid funcid)
{
	HeapTuple	tuple;
	bool		result = false;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tuple))
		return false;
	if (((Form_pg_proc) GETSTRUCT(tuple))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		prosrc = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);

		if (!isnull)
		{
			char	   *symbol = TextDatumGetCString(prosrc);

			for (size_t i = 0; i < lengthof(compare_symbols); i++)
				if (strcmp(symbol, compare_symbols[i]) == 0)
					result = true;
			pfree(symbol);
		}
	}
	ReleaseSysCache(tuple);
	return result;
}

/*
 * Tag the copies of each "(compare(...)).*" in a query about to be planned:
 * its columns are the only evaluations that may share a call.
 */
static void
tag_expansions(Query *parse)
{
	FindCalls	found = {0};
	int			start;

	find_calls((Node *) parse, &found);
	if (found.nselected < 2)
	{
		if (found.calls)
			pfree(found.calls);
		return;
	}
	qsort(found.calls, found.ncalls, sizeof(FoundCall), found_call_cmp);
	for (start = 0; start < found.ncalls;)
	{
		FuncExpr   *first = found.calls[start].call;
		int			end = start + 1;
		bool		columns;

		while (end < found.ncalls &&
			   found.calls[end].call->location == first->location &&
			   found.calls[end].call->funcid == first->funcid)
			end++;

		/* At least two copies, all under FieldSelects (sorted by field
		 * number, the first has the lowest), no field twice. */
		columns = end - start >= 2 && found.calls[start].fieldnum > 0;
		for (int i = start + 1; columns && i < end; i++)
			if (found.calls[i].fieldnum == found.calls[i - 1].fieldnum)
				columns = false;

		if (columns && is_compare_function(first->funcid))
		{
			int			tag = -2 - (int) (++last_tag % (PG_INT32_MAX - 2));

			for (int i = start; i < end; i++)
				found.calls[i].call->location = tag;
		}
		start = end;
	}
	pfree(found.calls);
}

static PlannedStmt *
memo_planner(Query *parse, const char *query_string, int cursorOptions,
			 ParamListInfo boundParams)
{
	tag_expansions(parse);
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

void
fc_memo_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = memo_planner;
}

static void
memo_forget(void *arg)
{
	MemoGuard  *guard = arg;

	/* A stale callback (the memo has moved on) must not forget a newer memo. */
	if (memo.valid && memo.guard == guard->guard)
		memo.valid = false;
}

static int
call_tag(FunctionCallInfo fcinfo)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;
	int			location = (expr && IsA(expr, FuncExpr)) ? ((FuncExpr *) expr)->location : -1;

	return TAG_IS_VALID(location) ? location : 0;
}

void
fc_memo_identify(FunctionCallInfo fcinfo, FcCallIdentity *identity)
{
	identity->row_context = CurrentMemoryContext;
	identity->nargs = Min(PG_NARGS(), FC_MEMO_MAX_ARGS);
	for (int i = 0; i < identity->nargs; i++)
	{
		struct varlena *arg;

		if (PG_ARGISNULL(i))
		{
			identity->args[i] = NULL;
			continue;
		}
		arg = (struct varlena *) PG_GETARG_POINTER(i);
		/* Indirect and expanded values point at memory that moves: flatten. */
		if (VARATT_IS_EXTERNAL(arg) && !VARATT_IS_EXTERNAL_ONDISK(arg))
			arg = detoast_external_attr(arg);
		identity->args[i] = arg;
	}
}

static bool
same_argument(const struct varlena *a, const struct varlena *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE_ANY(a) == VARSIZE_ANY(b) && memcmp(a, b, VARSIZE_ANY(a)) == 0;
}

static bool
same_identity(const FcCallIdentity *a, const FcCallIdentity *b)
{
	if (a->nargs != b->nargs)
		return false;
	for (int i = 0; i < a->nargs; i++)
		if (!same_argument(a->args[i], b->args[i]))
			return false;
	return true;
}

HeapTupleHeader
fc_memo_take(FunctionCallInfo fcinfo, const FcCallIdentity *identity)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	int			tag = call_tag(fcinfo);
	HeapTupleHeader copy;

	if (tag == 0 || !memo.valid || memo.tag != tag ||
		memo.row_context != identity->row_context ||
		memo.query_context != flinfo->fn_mcxt || memo.fn_oid != flinfo->fn_oid)
		return NULL;
	for (int i = 0; i < memo.nreaders; i++)
		if (memo.readers[i] == flinfo)
			return NULL;
	if (memo.nreaders == MEMO_MAX_READERS || !same_identity(&memo.identity, identity))
		return NULL;
	memo.readers[memo.nreaders++] = flinfo;

	/* The caller's own copy: the memo's may be replaced within this row. */
	copy = palloc(HeapTupleHeaderGetDatumLength(memo.tuple));
	memcpy(copy, memo.tuple, HeapTupleHeaderGetDatumLength(memo.tuple));
	return copy;
}

static void
free_memo_copies(void)
{
	for (int i = 0; i < memo.identity.nargs; i++)
		if (memo.identity.args[i])
			pfree(memo.identity.args[i]);
	pfree(memo.tuple);
}

void
fc_memo_store(FunctionCallInfo fcinfo, const FcCallIdentity *identity, HeapTupleHeader tuple)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	MemoryContext context = identity->row_context;
	int			tag = call_tag(fcinfo);
	bool		keep_guard;

	if (tag == 0)
		return;
	/* A valid memo's guard is still registered, and its copies still there. */
	keep_guard = memo.valid && memo.row_context == context;
	if (memo.valid)
		free_memo_copies();
	memo.valid = false;
	if (!keep_guard)
	{
		MemoGuard  *guard = MemoryContextAlloc(context, sizeof(MemoGuard));

		guard->guard = ++last_guard;
		guard->callback.func = memo_forget;
		guard->callback.arg = guard;
		MemoryContextRegisterResetCallback(context, &guard->callback);
		memo.guard = guard->guard;
	}
	memo.valid = true;
	memo.row_context = context;
	memo.query_context = flinfo->fn_mcxt;
	memo.fn_oid = flinfo->fn_oid;
	memo.tag = tag;
	memo.identity.row_context = context;
	memo.identity.nargs = identity->nargs;
	for (int i = 0; i < identity->nargs; i++)
	{
		const struct varlena *arg = identity->args[i];

		memo.identity.args[i] = NULL;
		if (arg)
		{
			memo.identity.args[i] = MemoryContextAlloc(context, VARSIZE_ANY(arg));
			memcpy(memo.identity.args[i], arg, VARSIZE_ANY(arg));
		}
	}
	memo.tuple = MemoryContextAlloc(context, HeapTupleHeaderGetDatumLength(tuple));
	memcpy(memo.tuple, tuple, HeapTupleHeaderGetDatumLength(tuple));
	memo.readers[0] = flinfo;
	memo.nreaders = 1;
}
