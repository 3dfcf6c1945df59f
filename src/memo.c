/*
 * memo.c
 *		The last verdict of a call site.
 *
 * PostgreSQL evaluates "(facecompare.compare(...)).*" once per result column,
 * each through its own FmgrInfo.  Those would be several paid calls with
 * several different verdicts in one row.  So the last verdict of a call site
 * (same query, same place in its text, same arguments) is kept, and each of
 * the site's other FmgrInfos may take it once; when one comes back for more,
 * a new row is being computed and a new call is made.
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
#include "nodes/primnodes.h"
#include "utils/memutils.h"

#include "memo.h"

#define MEMO_MAX_READERS 16

typedef struct CallSiteMemo
{
	bool		valid;
	MemoryContext query_context;	/* the memo lives and dies with it */
	Oid			fn_oid;
	int			location;
	FcCallIdentity identity;	/* copies, in query_context */
	HeapTupleHeader tuple;		/* the verdict, in query_context */
	FmgrInfo   *readers[MEMO_MAX_READERS];	/* who has taken it */
	int			nreaders;
} CallSiteMemo;

static CallSiteMemo memo;

static void
memo_forget(void *arg)
{
	memo.valid = false;
}

static int
call_location(FunctionCallInfo fcinfo)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;

	return (expr && IsA(expr, FuncExpr)) ? ((FuncExpr *) expr)->location : -1;
}

void
fc_memo_identify(FunctionCallInfo fcinfo, FcCallIdentity *identity)
{
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

	if (!memo.valid || memo.query_context != flinfo->fn_mcxt ||
		memo.fn_oid != flinfo->fn_oid || memo.location < 0 ||
		memo.location != call_location(fcinfo))
		return NULL;
	for (int i = 0; i < memo.nreaders; i++)
		if (memo.readers[i] == flinfo)
			return NULL;
	if (memo.nreaders == MEMO_MAX_READERS || !same_identity(&memo.identity, identity))
		return NULL;
	memo.readers[memo.nreaders++] = flinfo;
	return memo.tuple;
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
	MemoryContext context = flinfo->fn_mcxt;

	if (call_location(fcinfo) < 0)
		return;
	if (!memo.valid || memo.query_context != context)
	{
		MemoryContextCallback *cb;

		cb = MemoryContextAlloc(context, sizeof(MemoryContextCallback));
		cb->func = memo_forget;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(context, cb);
	}
	else
		free_memo_copies();
	memo.valid = true;
	memo.query_context = context;
	memo.fn_oid = flinfo->fn_oid;
	memo.location = call_location(fcinfo);
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
