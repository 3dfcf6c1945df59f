/*
 * result.h
 *		The columns of one comparison's outcome, as compare(), compare_many()
 *		and compare_rows() return them (the type facecompare.result).
 */
#ifndef RESULT_H
#define RESULT_H

#include "postgres.h"

#include "batch.h"

/* Columns of facecompare.result, in order. */
typedef enum FcResultColumn
{
	RESULT_TRANSACTION_ID,
	RESULT_PASSED,
	RESULT_SCORE,
	RESULT_REQUEST_ID,
	RESULT_MERCHANT_BIZ_ID,
	RESULT_ERROR_SQLSTATE,
	RESULT_ERROR_CODE,
	RESULT_ERROR_MESSAGE,
	/* Result.ExtFaceInfo, in FcQualityScore's order (0.4.0) */
	RESULT_FACE_QUALITY_SCORE,
	RESULT_ILLUMINATION_SCORE,
	RESULT_OCCLUSION_SCORE,
	RESULT_KA_OCCLUSION_SCORE,
	RESULT_SHARPNESS_SCORE,
	RESULT_NCOLUMNS
} FcResultColumn;

StaticAssertDecl(RESULT_SHARPNESS_SCORE - RESULT_FACE_QUALITY_SCORE == FC_SHARPNESS_SCORE - FC_FACE_QUALITY_SCORE,
				 "the quality columns follow FcQualityScore");

/*
 * The RESULT_NCOLUMNS columns for a decided pair, from values[0] on: its
 * verdict, or its error.  palloc'd in the current memory context.
 */
extern void fc_result_columns(const FcPair *p, Datum *values, bool *nulls);

#endif							/* RESULT_H */
