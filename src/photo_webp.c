/*
 * photo_webp.c
 *		WebP: the header read from the RIFF chunks (no decoder: size from
 *		VP8X, VP8 or VP8L, orientation from the EXIF chunk, metadata), and
 *		the decoder wrapper over libwebp's incremental, scaled decode.
 *
 * The input is fed in steps, the job asked between them whether to stop;
 * the pixels go straight into our buffer (external memory), so libwebp
 * holds only its decoder, released on every path.
 */
#include "photo_int.h"

#include <string.h>

#include "fcmem.h"

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t
le24(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16;
}

bool
fc_photo_header_webp(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error)
{
	size_t		at = 12;
	bool		have_size = false;

	while (at + 8 <= len)
	{
		const unsigned char *type = d + at;
		uint32_t	clen = le32(d + at + 4);
		const unsigned char *c = d + at + 8;

		if (clen > len - at - 8)
			return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated (WebP)");
		if (memcmp(type, "VP8X", 4) == 0 && clen >= 10)
		{
			info->width = (int) le24(c + 4) + 1;
			info->height = (int) le24(c + 7) + 1;
			have_size = true;
		}
		else if (memcmp(type, "VP8 ", 4) == 0 && clen >= 10 && !have_size)
		{
			if (c[3] != 0x9D || c[4] != 0x01 || c[5] != 0x2A)
				return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is corrupt (WebP frame)");
			info->width = (c[6] | c[7] << 8) & 0x3FFF;
			info->height = (c[8] | c[9] << 8) & 0x3FFF;
			have_size = true;
		}
		else if (memcmp(type, "VP8L", 4) == 0 && clen >= 5 && !have_size)
		{
			uint32_t	bits = le32(c + 1);

			if (c[0] != 0x2F)
				return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is corrupt (WebP lossless)");
			info->width = (int) (bits & 0x3FFF) + 1;
			info->height = (int) ((bits >> 14) & 0x3FFF) + 1;
			have_size = true;
		}
		else if (memcmp(type, "EXIF", 4) == 0)
		{
			/* Some writers keep JPEG's "Exif\0\0" before the TIFF header. */
			size_t		skip = clen >= 6 && memcmp(c, "Exif\0\0", 6) == 0 ? 6 : 0;

			info->has_metadata = true;
			info->orientation = fc_exif_orientation(c + skip, clen - skip);
		}
		else if (memcmp(type, "ICCP", 4) == 0 || memcmp(type, "XMP ", 4) == 0)
			info->has_metadata = true;
		at += 8 + (size_t) clen + (clen & 1);
	}
	if (!have_size)
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated (WebP): no image chunk");
	return true;
}

#ifdef FC_HAVE_WEBP

#include <webp/decode.h>

/* Input fed per step: a 12 MP photo takes about 50 of them. */
#define WEBP_STEP	(64 * 1024)

static void
release_decoder(void *p)
{
	WebPIDelete(p);
}

bool
fc_photo_decode_webp(const unsigned char *d, size_t len, int want_w, int want_h,
					 FcPhotoJob *job, FcPixels *px, FcPhotoError *error)
{
	WebPDecoderConfig config;
	WebPIDecoder *idec;
	VP8StatusCode status = VP8_STATUS_SUSPENDED;
	unsigned char *rgba;
	int			w,
				h,
				slot;
	size_t		fed = 0;

	memset(px, 0, sizeof(FcPixels));
	if (!WebPInitDecoderConfig(&config))
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded: libwebp version mismatch");
	if (WebPGetFeatures(d, len, &config.input) != VP8_STATUS_OK)
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as WebP");
	w = config.input.width;
	h = config.input.height;
	/* Scale in the decoder, keeping the aspect, to no less than the target. */
	if (want_w < w && want_h < h)
	{
		double		f = (double) want_w / w > (double) want_h / h ? (double) want_w / w : (double) want_h / h;

		w = (int) (w * f + 0.999);
		h = (int) (h * f + 0.999);
		config.options.use_scaling = 1;
		config.options.scaled_width = w;
		config.options.scaled_height = h;
	}
	rgba = fc_mem_alloc((size_t) w * h * 4);
	config.output.colorspace = MODE_RGBA;
	config.output.is_external_memory = 1;
	config.output.width = w;
	config.output.height = h;
	config.output.u.RGBA.rgba = rgba;
	config.output.u.RGBA.stride = w * 4;
	config.output.u.RGBA.size = (size_t) w * h * 4;
	idec = WebPIDecode(NULL, 0, &config);
	if (idec == NULL)
	{
		fc_mem_free(rgba);
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as WebP");
	}
	slot = fc_photo_job_hold(job, idec, release_decoder);
	while (fed < len && status == VP8_STATUS_SUSPENDED)
	{
		if (fc_photo_job_interrupted(job))
		{
			status = VP8_STATUS_USER_ABORT;
			break;
		}
		fed = len - fed > WEBP_STEP ? fed + WEBP_STEP : len;
		status = WebPIUpdate(idec, d, fed);
	}
	fc_photo_job_drop(job, slot, idec, release_decoder);
	if (status != VP8_STATUS_OK)
	{
		fc_mem_free(rgba);
		if (status == VP8_STATUS_USER_ABORT)
			return fc_photo_fail(error, FC_RULE_INTERRUPTED, "image preparation was interrupted");
		fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as WebP");
		fc_photo_detail(error, "libwebp: %s.",
						status == VP8_STATUS_SUSPENDED || status == VP8_STATUS_NOT_ENOUGH_DATA ? "the file is truncated" :
						status == VP8_STATUS_OUT_OF_MEMORY ? "out of memory" :
						status == VP8_STATUS_UNSUPPORTED_FEATURE ? "unsupported feature" : "the bitstream is corrupt");
		return false;
	}
	px->width = w;
	px->height = h;
	px->rgb = fc_photo_flatten_rgba(rgba, (size_t) w * h);
	return true;
}

#else							/* !FC_HAVE_WEBP */

bool
fc_photo_decode_webp(const unsigned char *d, size_t len, int want_w, int want_h,
					 FcPhotoJob *job, FcPixels *px, FcPhotoError *error)
{
	(void) d, (void) len, (void) want_w, (void) want_h, (void) job, (void) px;
	return fc_photo_fail(error, FC_RULE_NOT_BUILT, "image is WebP, which this build cannot decode");
}

#endif
