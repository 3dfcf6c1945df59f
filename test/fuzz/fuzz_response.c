/*
 * fuzz_response.c
 *		libFuzzer target: any bytes, with any HTTP status, must parse into one
 *		of the three kinds without crashing, leaking or reading out of bounds,
 *		and a verdict must always be complete and in range, its quality
 *		scores (Result.ExtFaceInfo) too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FcResponse	r;
	int			status = 200;

	/* The first byte picks the HTTP status, so error paths get fuzzed too. */
	if (size > 0)
	{
		static const int statuses[] = {200, 200, 200, 400, 401, 403, 404, 500, 502, 503};

		status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
		data++;
		size--;
	}
	fc_parse_response((const char *) data, size, status, &r);

	if (r.kind == FC_RESPONSE_VERDICT)
	{
		double		score = strtod(r.score, NULL);

		if (r.transaction_id == NULL || r.transaction_id[0] == '\0' ||
			r.request_id == NULL || score < 0.0 || score > 100.0 || status != 200)
			abort();
		for (int i = 0; i < FC_NQUALITY_SCORES; i++)
		{
			double		quality = r.quality[i] ? strtod(r.quality[i], NULL) : 0.0;

			if (quality < 0.0 || quality > 100.0)
				abort();
		}
	}
	else if (r.kind == FC_RESPONSE_MALFORMED && r.problem == NULL)
		abort();

	free(r.request_id);
	free(r.code);
	free(r.message);
	free(r.transaction_id);
	free(r.score);
	for (int i = 0; i < FC_NQUALITY_SCORES; i++)
		free(r.quality[i]);
	return 0;
}
