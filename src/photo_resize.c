/*
 * photo_resize.c
 *		Scale the decoded pixels to the target (stb_image_resize, Mitchell
 *		filter, on our allocator), then turn them upright by the EXIF
 *		orientation.  Scaling first means the turn moves the small picture.
 */
#include "photo_int.h"

#include <string.h>

#include "fcmem.h"

#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STBIR_MALLOC(size, c) ((void) (c), fc_mem_alloc(size))
#define STBIR_FREE(ptr, c) ((void) (c), fc_mem_free(ptr))
#define STBIR_ASSERT(x) ((void) 0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image_resize.h>
#pragma GCC diagnostic pop

/* Where upright pixel (x, y) comes from in the stored sw x sh picture. */
static inline size_t
source_of(int orientation, int x, int y, int sw, int sh)
{
	int			sx,
				sy;

	switch (orientation)
	{
		case 2:
			sx = sw - 1 - x, sy = y;
			break;
		case 3:
			sx = sw - 1 - x, sy = sh - 1 - y;
			break;
		case 4:
			sx = x, sy = sh - 1 - y;
			break;
		case 5:
			sx = y, sy = x;
			break;
		case 6:
			sx = y, sy = sh - 1 - x;
			break;
		case 7:
			sx = sw - 1 - y, sy = sh - 1 - x;
			break;
		case 8:
			sx = sw - 1 - y, sy = x;
			break;
		default:
			sx = x, sy = y;
			break;
	}
	return ((size_t) sy * sw + sx) * 3;
}

bool
fc_photo_resize_orient(FcPixels *px, int width, int height, int orientation,
					   FcPhotoError *error)
{
	if (px->width != width || px->height != height)
	{
		unsigned char *to = fc_mem_alloc((size_t) width * height * 3);

		if (!stbir_resize_uint8_generic(px->rgb, px->width, px->height, 0,
										to, width, height, 0, 3, STBIR_ALPHA_CHANNEL_NONE, 0,
										STBIR_EDGE_CLAMP, STBIR_FILTER_MITCHELL,
										STBIR_COLORSPACE_LINEAR, NULL))
		{
			fc_mem_free(to);
			return fc_photo_fail(error, FC_RULE_OUT_OF_MEMORY, "image could not be scaled");
		}
		fc_mem_free(px->rgb);
		px->rgb = to;
		px->width = width;
		px->height = height;
	}
	if (orientation >= 2 && orientation <= 8)
	{
		bool		swap = orientation >= 5;
		int			uw = swap ? px->height : px->width,
					uh = swap ? px->width : px->height;
		unsigned char *to = fc_mem_alloc((size_t) uw * uh * 3);

		for (int y = 0; y < uh; y++)
			for (int x = 0; x < uw; x++)
				memcpy(to + ((size_t) y * uw + x) * 3,
					   px->rgb + source_of(orientation, x, y, px->width, px->height), 3);
		fc_mem_free(px->rgb);
		px->rgb = to;
		px->width = uw;
		px->height = uh;
	}
	return true;
}
