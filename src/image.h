/*
 * image.h
 *		What the service accepts as a picture: the formats by their magic bytes
 *		and the size limit.  Pure C, shared with the emulator.
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <stddef.h>

typedef enum FcImageFormat
{
	FC_IMAGE_UNKNOWN = 0,
	FC_IMAGE_JPEG,
	FC_IMAGE_PNG
} FcImageFormat;

/*
 * The service's transfer limit for one picture: 1 MB, counted on the base64
 * text that travels (the image itself must therefore stay under ~768 KiB).
 */
#define FC_MAX_ENCODED_PICTURE	(1024 * 1024)

/* The largest picture whose base64 fits: 786,432 bytes. */
#define FC_MAX_PICTURE_BYTES	(FC_MAX_ENCODED_PICTURE / 4 * 3)

/* Identify a picture by its leading bytes. */
extern FcImageFormat fc_image_format(const unsigned char *data, size_t len);

/* "JPEG", "PNG" or "unknown". */
extern const char *fc_image_format_name(FcImageFormat format);

/* Length of the base64 text of a len-byte image (padding included). */
extern size_t fc_base64_length(size_t len);

#endif							/* IMAGE_H */
