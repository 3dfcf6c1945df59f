/*
 * photo_png.c
 *		PNG: the header read from IHDR and the chunks before the image data
 *		(no decoder), and the decoder wrapper over libpng: palette, grey and
 *		16-bit pictures expanded to 8-bit RGB, alpha flattened on white.
 *
 * libpng gets our error functions (a longjmp back here, which destroys the
 * reader; a warning is an error too) and an allocator; the ancillary chunks
 * we would drop anyway (text, ICC, EXIF, gamma) are not even parsed, so a
 * harmless profile quirk in them is not a reason to refuse the picture.
 * Rows are read one at a time with the job asked every 16 rows whether to
 * stop.
 */
#include "photo_int.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "fcmem.h"

/* The most an ancillary chunk may make libpng allocate. */
#define PNG_CHUNK_MAX	(8 * 1024 * 1024)

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

bool
fc_photo_header_png(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error)
{
	size_t		at = 8;

	if (len < 8 + 8 + 13 || memcmp(d + 12, "IHDR", 4) != 0 || be32(d + 8) != 13)
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated or corrupt (PNG)");
	info->width = be32(d + 16) > 0x7FFFFFFF ? 0x7FFFFFFF : (int) be32(d + 16);
	info->height = be32(d + 20) > 0x7FFFFFFF ? 0x7FFFFFFF : (int) be32(d + 20);
	/* The chunks before the image data: metadata, and eXIf's orientation. */
	while (at + 12 <= len)
	{
		uint32_t	clen = be32(d + at);
		const unsigned char *type = d + at + 4;

		if (memcmp(type, "IDAT", 4) == 0 || memcmp(type, "IEND", 4) == 0 || clen > len - at - 12)
			break;
		if (memcmp(type, "eXIf", 4) == 0)
		{
			info->has_metadata = true;
			info->orientation = fc_exif_orientation(d + at + 8, clen);
		}
		else if (memcmp(type, "tEXt", 4) == 0 || memcmp(type, "zTXt", 4) == 0 ||
				 memcmp(type, "iTXt", 4) == 0 || memcmp(type, "iCCP", 4) == 0)
			info->has_metadata = true;
		at += 12 + (size_t) clen;
	}
	return true;
}

typedef struct PngDecoder
{
	png_structp png;
	png_infop	info;
	jmp_buf		jump;
	FcPhotoJob *job;
	bool		interrupted;
	char		reason[200];
	const unsigned char *data;
	size_t		len;
	size_t		pos;
} PngDecoder;

static void
png_fail(png_structp png, png_const_charp msg)
{
	PngDecoder *dec = png_get_error_ptr(png);

	snprintf(dec->reason, sizeof(dec->reason), "%s", msg);
	longjmp(dec->jump, 1);
}

static png_voidp
png_alloc(png_structp png, png_alloc_size_t size)
{
	(void) png;
	return malloc(size);
}

static void
png_release_mem(png_structp png, png_voidp p)
{
	(void) png;
	free(p);
}

static void
png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
	PngDecoder *dec = png_get_io_ptr(png);

	if (n > dec->len - dec->pos)
		png_error(png, "the file is truncated");
	memcpy(out, dec->data + dec->pos, n);
	dec->pos += n;
}

static void
release_decoder(void *p)
{
	PngDecoder *dec = p;

	if (dec->png)
		png_destroy_read_struct(&dec->png, dec->info ? &dec->info : NULL, NULL);
	fc_mem_free(dec);
}

/* Chunks we would throw away: libpng need not read them at all. */
static const png_byte ignored_chunks[] =
"iCCP\0sRGB\0gAMA\0cHRM\0tEXt\0zTXt\0iTXt\0eXIf\0tIME\0pHYs\0sBIT\0sPLT\0hIST\0bKGD\0oFFs\0pCAL\0sCAL\0";

bool
fc_photo_decode_png(const unsigned char *d, size_t len, const FcPhotoLimits *limits,
					FcPhotoJob *job, FcPixels *px, FcPhotoError *error)
{
	PngDecoder *volatile dec = fc_mem_alloc(sizeof(PngDecoder));
	volatile int slot = -1;
	int			channels,
				passes;
	png_uint_32 w,
				h;
	size_t		stride;

	memset(dec, 0, sizeof(PngDecoder));
	memset(px, 0, sizeof(FcPixels));
	dec->job = job;
	dec->data = d;
	dec->len = len;
	if (setjmp(dec->jump))
	{
		fc_photo_decode_failed(error, dec->interrupted, "PNG", "libpng", dec->reason);
		fc_mem_free(px->rgb);
		px->rgb = NULL;
		fc_photo_job_drop(job, slot, dec, release_decoder);
		return false;
	}
	dec->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, dec, png_fail, png_fail,
										NULL, png_alloc, png_release_mem);
	if (dec->png == NULL)
	{
		fc_mem_free(dec);
		return fc_photo_fail(error, FC_RULE_OUT_OF_MEMORY, "image could not be decoded: out of memory (PNG)");
	}
	slot = fc_photo_job_hold(job, dec, release_decoder);
	dec->info = png_create_info_struct(dec->png);
	if (dec->info == NULL)
		png_error(dec->png, "out of memory");
	png_set_user_limits(dec->png, FC_PHOTO_MAX_SIDE, FC_PHOTO_MAX_SIDE);
	png_set_chunk_malloc_max(dec->png, PNG_CHUNK_MAX);
	png_set_keep_unknown_chunks(dec->png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
								(int) (sizeof(ignored_chunks) - 1) / 5);
	png_set_read_fn(dec->png, dec, png_read_mem);
	png_read_info(dec->png, dec->info);
	w = png_get_image_width(dec->png, dec->info);
	h = png_get_image_height(dec->png, dec->info);
	if ((int64_t) w * h > limits->max_pixels)
		png_error(dec->png, "image has more pixels than its header said");

	/* Any layout to 8-bit RGB or RGBA. */
	png_set_expand(dec->png);
	png_set_scale_16(dec->png);
	png_set_gray_to_rgb(dec->png);
	passes = png_set_interlace_handling(dec->png);
	png_read_update_info(dec->png, dec->info);
	channels = png_get_channels(dec->png, dec->info);
	if (channels != 3 && channels != 4)
		png_error(dec->png, "unexpected channel count");
	stride = (size_t) w * channels;
	px->width = (int) w;
	px->height = (int) h;
	px->rgb = fc_mem_alloc(stride * h);
	for (int pass = 0; pass < passes; pass++)
		for (png_uint_32 y = 0; y < h; y++)
		{
			if ((y & 15) == 0 && fc_photo_job_interrupted(job))
			{
				dec->interrupted = true;
				png_error(dec->png, "interrupted");
			}
			png_read_row(dec->png, px->rgb + stride * y, NULL);
		}
	png_read_end(dec->png, NULL);
	fc_photo_job_drop(job, slot, dec, release_decoder);

	if (channels == 4)
		px->rgb = fc_photo_flatten_rgba(px->rgb, (size_t) w * h);
	return true;
}
