/*
 * memo.h
 *		One call for the columns of one "(facecompare.compare(...)).*", so
 *		that it pays for one call per row, not one per result column.
 */
#ifndef MEMO_H
#define MEMO_H

#include "fmgr.h"
#include "access/htup.h"

/* At most this many arguments identify a call: compare() takes three. */
#define FC_MEMO_MAX_ARGS 4

/* A call's arguments as passed: what makes two calls the same call. */
typedef struct FcCallIdentity
{
	MemoryContext row_context;	/* CurrentMemoryContext of the call */
	int			nargs;
	struct varlena *args[FC_MEMO_MAX_ARGS];	/* NULL for a NULL argument */
} FcCallIdentity;

extern void fc_memo_init(void);
extern void fc_memo_identify(FunctionCallInfo fcinfo, FcCallIdentity *identity);
extern HeapTupleHeader fc_memo_take(FunctionCallInfo fcinfo, const FcCallIdentity *identity);
extern void fc_memo_store(FunctionCallInfo fcinfo, const FcCallIdentity *identity,
						  HeapTupleHeader tuple);

#endif							/* MEMO_H */
