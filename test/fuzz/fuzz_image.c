/*
 * fuzz_image.c
 *		libFuzzer target for the image checks: format sniffing never reads
 *		past the data, agrees with the magic bytes, and the base64 length is
 *		exact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches any read past the end. */
	unsigned char *copy = malloc(size ? size : 1);
	FcImageFormat format;

	memcpy(copy, data, size);
	format = fc_image_format(copy, size);
	if (format == FC_IMAGE_JPEG && !(size >= 3 && copy[0] == 0xFF && copy[1] == 0xD8))
		abort();
	if (format == FC_IMAGE_PNG && !(size >= 8 && copy[0] == 0x89 && copy[1] == 'P'))
		abort();
	if (fc_base64_length(size) != 4 * ((size + 2) / 3))
		abort();
	if (strcmp(fc_image_format_name(format), "unknown") == 0 && format != FC_IMAGE_UNKNOWN)
		abort();
	free(copy);
	return 0;
}
