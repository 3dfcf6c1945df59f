/*
 * fcerror.c
 *		A comparison's error as a value, and the one place it is raised.
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "fcerror.h"

static char *format_text(const char *fmt, va_list args) pg_attribute_printf(1, 0);

static char *
format_text(const char *fmt, va_list args)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&buf, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	return buf.data;
}

bool
fc_error(FcError *error, int sqlerrcode, const char *fmt,...)
{
	va_list		args;

	memset(error, 0, sizeof(FcError));
	error->sqlerrcode = sqlerrcode;
	va_start(args, fmt);
	error->message = format_text(fmt, args);
	va_end(args);
	return false;
}

void
fc_error_detail(FcError *error, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	error->detail = format_text(fmt, args);
	va_end(args);
}

void
fc_error_hint(FcError *error, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	error->hint = format_text(fmt, args);
	va_end(args);
}

const char *
fc_error_sqlstate(const FcError *error)
{
	return unpack_sql_state(error->sqlerrcode);
}

void
fc_raise_error(const FcError *error)
{
	ereport(ERROR,
			(errcode(error->sqlerrcode),
			 errhidestmt(true),
			 errmsg_internal("%s", error->message),
			 error->detail ? errdetail_internal("%s", error->detail) : 0,
			 error->hint ? errhint("%s", error->hint) : 0));
	pg_unreachable();
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

void
fc_error_copy(FcError *to, const FcError *from)
{
	*to = *from;
	to->code = copy_or_null(from->code);
	to->message = copy_or_null(from->message);
	to->detail = copy_or_null(from->detail);
	to->hint = copy_or_null(from->hint);
}
