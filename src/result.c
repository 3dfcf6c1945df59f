/*
 * result.c
 *		One decided comparison as the columns of facecompare.result: the
 *		row builder compare(), compare_many() and compare_rows() share.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "result.h"

/* A score's decimal text as numeric. */
static Datum
numeric_datum(const char *text)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(text),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

void
fc_result_columns(const FcPair *p, Datum *values, bool *nulls)
{
	const char *texts[RESULT_NCOLUMNS] = {0};

	memset(nulls, true, sizeof(bool) * RESULT_NCOLUMNS);
	if (p->ok)
	{
		texts[RESULT_TRANSACTION_ID] = p->verdict.transaction_id;
		values[RESULT_PASSED] = BoolGetDatum(p->verdict.passed);
		nulls[RESULT_PASSED] = false;
		values[RESULT_SCORE] = numeric_datum(p->verdict.score);
		nulls[RESULT_SCORE] = false;
		texts[RESULT_REQUEST_ID] = p->verdict.request_id;
		/* Only when asked for and answered: NULL otherwise. */
		for (int i = 0; i < FC_NQUALITY_SCORES; i++)
			if (p->verdict.quality[i])
			{
				values[RESULT_FACE_QUALITY_SCORE + i] = numeric_datum(p->verdict.quality[i]);
				nulls[RESULT_FACE_QUALITY_SCORE + i] = false;
			}
	}
	else
	{
		texts[RESULT_ERROR_SQLSTATE] = fc_error_sqlstate(&p->error);
		texts[RESULT_ERROR_CODE] = p->error.code;
		texts[RESULT_ERROR_MESSAGE] = p->error.message;
	}
	texts[RESULT_MERCHANT_BIZ_ID] = p->merchant_biz_id;
	for (int i = 0; i < RESULT_NCOLUMNS; i++)
		if (texts[i])
		{
			values[i] = CStringGetTextDatum(texts[i]);
			nulls[i] = false;
		}
}
