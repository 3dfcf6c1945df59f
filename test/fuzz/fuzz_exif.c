/*
 * fuzz_exif.c
 *		libFuzzer target for the EXIF orientation reader: any bytes give 1-8
 *		and no read outside them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photo.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	int			o;

	memcpy(copy, data, size);
	o = fc_exif_orientation(copy, size);
	if (o < 1 || o > 8)
		abort();
	free(copy);
	return 0;
}
