/*
 * fuzz_photo.h
 *		One libFuzzer target per decoder wrapper: the input, given the
 *		format's magic bytes when it lacks them, goes through the header rules
 *		and a whole preparation.  Must never crash, leak, read out of bounds
 *		or return a result over the cap; limits are small so a fuzzed header
 *		cannot make a run slow.  FUZZ_MAGIC / FUZZ_MAGIC_LEN pick the format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcmem.h"
#include "photo.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FcPhotoLimits limits = {4000000, 1 << 20};
	FcPhotoInfo info;
	FcPhotoError err;
	unsigned char *copy,
			   *out = NULL;
	size_t		len = size,
				outlen = 0;
	bool		has_magic = size >= FUZZ_MAGIC_LEN && memcmp(data, FUZZ_MAGIC, FUZZ_MAGIC_LEN) == 0;

	/* A copy of exactly len bytes, so ASan catches any read past the end. */
	if (!has_magic)
		len += FUZZ_MAGIC_LEN;
	copy = malloc(len ? len : 1);
	if (!has_magic)
	{
		memcpy(copy, FUZZ_MAGIC, FUZZ_MAGIC_LEN);
		memcpy(copy + FUZZ_MAGIC_LEN, data, size);
	}
	else
		memcpy(copy, data, size);
	(void) fc_photo_read_header(copy, len, &info, &err);
	if (fc_photo_prepare(copy, len, &limits, NULL, &out, &outlen, &err))
	{
		if (outlen == 0 || outlen > FC_PHOTO_MAX_OUTPUT)
			abort();
		if (!fc_photo_read_header(out, outlen, &info, &err) || info.format != FC_PHOTO_JPEG ||
			info.has_metadata || info.orientation != 1)
			abort();
	}
	else if (err.rule == FC_RULE_NONE || err.message[0] == '\0')
		abort();
	fc_mem_free(out);
	free(copy);
	return 0;
}
