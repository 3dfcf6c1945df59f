/*
 * photo_heif.c
 *		HEIC/HEIF (and AVIF): header and decoder wrapper over libheif.
 *
 * libheif parses the container without decoding (the header read: size
 * after the container's rotation and mirror, metadata blocks), refuses an
 * image over its size limit, and applies irot/imir on decode, so what it
 * hands back is upright (orientation 1 here).  It is C++ inside and returns
 * its errors as values; libde265 starts a thread per decode and joins it
 * before returning: all signals are blocked while it runs so that thread
 * can never run the caller's handlers (it inherits the mask).  There is no
 * cancel hook: the server runs this decode in a child process it can kill
 * (photo_pg.c).
 */
#include "photo_int.h"

#include <signal.h>
#include <string.h>

#include "fcmem.h"

#ifdef FC_HAVE_HEIF

#include <pthread.h>

#include <libheif/heif.h>

/* The decoder's state, held by the job while live. */
typedef struct HeifState
{
	struct heif_context *ctx;
	struct heif_image_handle *handle;
	struct heif_image *image;
} HeifState;

static void
release_state(void *p)
{
	HeifState  *st = p;

	if (st->image)
		heif_image_release(st->image);
	if (st->handle)
		heif_image_handle_release(st->handle);
	if (st->ctx)
		heif_context_free(st->ctx);
	fc_mem_free(st);
}

/* libheif's message without the line end some of them carry. */
static void
heif_detail(FcPhotoError *error, const struct heif_error *err)
{
	const char *msg = err->message ? err->message : "unknown error";
	size_t		n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		n--;
	fc_photo_detail(error, "libheif: %.*s.", (int) n, msg);
}

/* Parse the container into st; false with *error. */
static bool
open_primary(HeifState *st, const unsigned char *d, size_t len, FcPhotoError *error)
{
	struct heif_error err;

	st->ctx = heif_context_alloc();
	if (st->ctx == NULL)
		return fc_photo_fail(error, FC_RULE_OUT_OF_MEMORY, "image could not be read: out of memory (HEIC)");
	heif_context_set_max_decoding_threads(st->ctx, 0);
	heif_context_set_maximum_image_size_limit(st->ctx, FC_PHOTO_MAX_SIDE);
	err = heif_context_read_from_memory_without_copy(st->ctx, d, len, NULL);
	if (err.code == heif_error_Ok)
		err = heif_context_get_primary_image_handle(st->ctx, &st->handle);
	if (err.code != heif_error_Ok)
	{
		fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be read as HEIC");
		heif_detail(error, &err);
		return false;
	}
	return true;
}

bool
fc_photo_header_heif(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error)
{
	HeifState  *st = fc_mem_alloc(sizeof(HeifState));
	bool		ok;

	memset(st, 0, sizeof(HeifState));
	ok = open_primary(st, d, len, error);
	if (ok)
	{
		info->width = heif_image_handle_get_width(st->handle);
		info->height = heif_image_handle_get_height(st->handle);
		info->has_metadata = heif_image_handle_get_number_of_metadata_blocks(st->handle, NULL) > 0 ||
			heif_image_handle_get_color_profile_type(st->handle) != heif_color_profile_type_not_present;
	}
	release_state(st);
	return ok;
}

bool
fc_photo_decode_heif(const unsigned char *d, size_t len, const FcPhotoLimits *limits,
					 FcPhotoJob *job, FcPixels *px, FcPhotoError *error)
{
	HeifState  *st = fc_mem_alloc(sizeof(HeifState));
	struct heif_error err;
	const uint8_t *plane;
	int			stride,
				slot;
	sigset_t	all,
				old;

	memset(px, 0, sizeof(FcPixels));
	memset(st, 0, sizeof(HeifState));
	slot = fc_photo_job_hold(job, st, release_state);
	if (!open_primary(st, d, len, error))
		goto fail;
	if ((int64_t) heif_image_handle_get_width(st->handle) * heif_image_handle_get_height(st->handle) > limits->max_pixels)
	{
		fc_photo_fail(error, FC_RULE_PIXELS, "image has more pixels than allowed (HEIC)");
		goto fail;
	}
	/* libde265's thread inherits this mask: no signal handler can run on it. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = heif_decode_image(st->handle, &st->image, heif_colorspace_RGB,
							heif_image_handle_has_alpha_channel(st->handle) ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB,
							NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err.code != heif_error_Ok)
	{
		fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as HEIC");
		heif_detail(error, &err);
		goto fail;
	}
	if (fc_photo_job_interrupted(job))
	{
		fc_photo_fail(error, FC_RULE_INTERRUPTED, "image preparation was interrupted");
		goto fail;
	}
	plane = heif_image_get_plane_readonly(st->image, heif_channel_interleaved, &stride);
	px->width = heif_image_get_width(st->image, heif_channel_interleaved);
	px->height = heif_image_get_height(st->image, heif_channel_interleaved);
	if (plane == NULL || px->width <= 0 || px->height <= 0)
	{
		fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as HEIC: no pixels");
		goto fail;
	}
	{
		int			ch = heif_image_handle_has_alpha_channel(st->handle) ? 4 : 3;
		size_t		row = (size_t) px->width * ch;

		px->rgb = fc_mem_alloc(row * px->height);
		for (int y = 0; y < px->height; y++)
			memcpy(px->rgb + row * y, plane + (size_t) stride * y, row);
		if (ch == 4)
			px->rgb = fc_photo_flatten_rgba(px->rgb, (size_t) px->width * px->height);
	}
	fc_photo_job_drop(job, slot, st, release_state);
	return true;

fail:
	fc_photo_job_drop(job, slot, st, release_state);
	px->width = px->height = 0;
	return false;
}

#else							/* !FC_HAVE_HEIF */

bool
fc_photo_header_heif(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error)
{
	(void) d, (void) len, (void) info;
	return fc_photo_fail(error, FC_RULE_NOT_BUILT, "image is HEIC, which this build cannot decode");
}

bool
fc_photo_decode_heif(const unsigned char *d, size_t len, const FcPhotoLimits *limits,
					 FcPhotoJob *job, FcPixels *px, FcPhotoError *error)
{
	(void) d, (void) len, (void) limits, (void) job, (void) px;
	return fc_photo_fail(error, FC_RULE_NOT_BUILT, "image is HEIC, which this build cannot decode");
}

#endif
