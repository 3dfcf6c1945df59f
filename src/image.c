/*
 * image.c
 *		Recognise JPEG and PNG pictures by their magic bytes.
 */
#include "image.h"

#include <string.h>

/* JPEG: SOI marker followed by the start of another marker. */
static const unsigned char jpeg_magic[] = {0xFF, 0xD8, 0xFF};

/* PNG: the fixed eight-byte signature. */
static const unsigned char png_magic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

FcImageFormat
fc_image_format(const unsigned char *data, size_t len)
{
	if (len >= sizeof(jpeg_magic) && memcmp(data, jpeg_magic, sizeof(jpeg_magic)) == 0)
		return FC_IMAGE_JPEG;
	if (len >= sizeof(png_magic) && memcmp(data, png_magic, sizeof(png_magic)) == 0)
		return FC_IMAGE_PNG;
	return FC_IMAGE_UNKNOWN;
}

const char *
fc_image_format_name(FcImageFormat format)
{
	switch (format)
	{
		case FC_IMAGE_JPEG:
			return "JPEG";
		case FC_IMAGE_PNG:
			return "PNG";
		case FC_IMAGE_UNKNOWN:
			break;
	}
	return "unknown";
}

size_t
fc_base64_length(size_t len)
{
	return (len + 2) / 3 * 4;
}
