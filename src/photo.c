/*
 * photo.c
 *		The preparation core's rules and pipeline: format by magic bytes, the
 *		header rules (so a decompression bomb costs a header read), whether
 *		the service would take a picture as it is, and prepare: decode,
 *		orient, scale, encode within the output cap.
 */
#include "photo_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fcmem.h"
#include "image.h"

bool
fc_photo_fail(FcPhotoError *error, FcPhotoRule rule, const char *fmt,...)
{
	va_list		ap;

	error->rule = rule;
	va_start(ap, fmt);
	vsnprintf(error->message, sizeof(error->message), fmt, ap);
	va_end(ap);
	error->detail[0] = '\0';
	return false;
}

void
fc_photo_detail(FcPhotoError *error, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(error->detail, sizeof(error->detail), fmt, ap);
	va_end(ap);
}

void
fc_photo_job_init(FcPhotoJob *job, FcPhotoInterrupt interrupt, void *arg)
{
	memset(job, 0, sizeof(FcPhotoJob));
	job->interrupt = interrupt;
	job->interrupt_arg = arg;
}

int
fc_photo_job_hold(FcPhotoJob *job, void *handle, void (*release) (void *))
{
	for (int i = 0; job && i < (int) (sizeof(job->live) / sizeof(job->live[0])); i++)
		if (job->live[i] == NULL)
		{
			job->live[i] = handle;
			job->release[i] = release;
			return i;
		}
	return -1;
}

void
fc_photo_job_release(FcPhotoJob *job, int slot)
{
	if (job && slot >= 0 && job->live[slot])
	{
		void	   *handle = job->live[slot];

		/* Cleared first: a release that fails must not run twice. */
		job->live[slot] = NULL;
		job->release[slot] (handle);
	}
}

void
fc_photo_job_drop(FcPhotoJob *job, int slot, void *handle, void (*release) (void *))
{
	if (slot >= 0)
		fc_photo_job_release(job, slot);
	else
		release(handle);
}

bool
fc_photo_decode_failed(FcPhotoError *error, bool interrupted, const char *format,
					   const char *library, const char *reason)
{
	if (interrupted)
		return fc_photo_fail(error, FC_RULE_INTERRUPTED, "image preparation was interrupted");
	fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be decoded as %s", format);
	fc_photo_detail(error, "%s: %s.", library, reason);
	return false;
}

void
fc_photo_job_cleanup(FcPhotoJob *job)
{
	for (int i = 0; job && i < (int) (sizeof(job->live) / sizeof(job->live[0])); i++)
		fc_photo_job_release(job, i);
}

bool
fc_photo_job_interrupted(FcPhotoJob *job)
{
	return job && job->interrupt && job->interrupt(job->interrupt_arg);
}

unsigned char *
fc_photo_flatten_rgba(unsigned char *rgba, size_t n)
{
	/* In place: the RGB pixel never overtakes the RGBA one it comes from. */
	for (size_t i = 0; i < n; i++)
	{
		const unsigned char *s = rgba + i * 4;
		unsigned char *o = rgba + i * 3;
		unsigned	a = s[3];
		unsigned char rgb[3] = {s[0], s[1], s[2]};

		for (int c = 0; c < 3; c++)
			o[c] = (unsigned char) ((rgb[c] * a + 255 * (255 - a) + 127) / 255);
	}
	return fc_mem_realloc(rgba, n * 3);
}

/* Magic bytes, longest-known first where they could overlap. */
typedef struct Magic
{
	FcPhotoFormat format;
	size_t		offset;
	size_t		len;
	const char *bytes;
} Magic;

static const Magic magics[] = {
	{FC_PHOTO_JPEG, 0, 3, "\xFF\xD8\xFF"},
	{FC_PHOTO_PNG, 0, 8, "\x89PNG\r\n\x1A\n"},
	{FC_PHOTO_GIF, 0, 6, "GIF87a"},
	{FC_PHOTO_GIF, 0, 6, "GIF89a"},
	{FC_PHOTO_TIFF, 0, 4, "II*\0"},
	{FC_PHOTO_TIFF, 0, 4, "MM\0*"},
	{FC_PHOTO_JPEG2000, 0, 12, "\0\0\0\x0CjP  \r\n\x87\n"},
	{FC_PHOTO_JPEG2000, 0, 4, "\xFF\x4F\xFF\x51"},
	{FC_PHOTO_JPEGXL, 0, 12, "\0\0\0\x0CJXL \r\n\x87\n"},
	{FC_PHOTO_JPEGXL, 0, 2, "\xFF\x0A"},
	{FC_PHOTO_PSD, 0, 4, "8BPS"},
	{FC_PHOTO_ICO, 0, 4, "\0\0\1\0"},
	{FC_PHOTO_BMP, 0, 2, "BM"},
};

/* The ISO-BMFF brands libheif decodes: HEIC/HEIF stills and AVIF. */
static const char *const heif_brands[] = {
	"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis"
};

FcPhotoFormat
fc_photo_format(const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].offset + magics[i].len &&
			memcmp(data + magics[i].offset, magics[i].bytes, magics[i].len) == 0)
			return magics[i].format;
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return FC_PHOTO_WEBP;
	if (len >= 12 && memcmp(data + 4, "ftyp", 4) == 0)
		for (size_t i = 0; i < sizeof(heif_brands) / sizeof(heif_brands[0]); i++)
			if (memcmp(data + 8, heif_brands[i], 4) == 0)
				return FC_PHOTO_HEIF;
	return FC_PHOTO_UNKNOWN;
}

const char *
fc_photo_format_name(FcPhotoFormat format)
{
	switch (format)
	{
		case FC_PHOTO_JPEG:
			return "JPEG";
		case FC_PHOTO_PNG:
			return "PNG";
		case FC_PHOTO_WEBP:
			return "WebP";
		case FC_PHOTO_HEIF:
			return "HEIC";
		case FC_PHOTO_GIF:
			return "GIF";
		case FC_PHOTO_BMP:
			return "BMP";
		case FC_PHOTO_TIFF:
			return "TIFF";
		case FC_PHOTO_JPEG2000:
			return "JPEG 2000";
		case FC_PHOTO_JPEGXL:
			return "JPEG XL";
		case FC_PHOTO_ICO:
			return "ICO";
		case FC_PHOTO_PSD:
			return "PSD";
		case FC_PHOTO_UNKNOWN:
			break;
	}
	return "unknown";
}

bool
fc_photo_format_built(FcPhotoFormat format)
{
	switch (format)
	{
		case FC_PHOTO_JPEG:
		case FC_PHOTO_PNG:
			return true;
		case FC_PHOTO_WEBP:
#ifdef FC_HAVE_WEBP
			return true;
#else
			return false;
#endif
		case FC_PHOTO_HEIF:
#ifdef FC_HAVE_HEIF
			return true;
#else
			return false;
#endif
		default:
			return false;
	}
}

const char *
fc_photo_formats_missing(void)
{
#if !defined(FC_HAVE_HEIF) && !defined(FC_HAVE_WEBP)
	return "HEIC, WebP";
#elif !defined(FC_HAVE_HEIF)
	return "HEIC";
#elif !defined(FC_HAVE_WEBP)
	return "WebP";
#else
	return "";
#endif
}

void
fc_photo_upright_size(const FcPhotoInfo *info, int *width, int *height)
{
	/* Orientations 5-8 store the picture transposed. */
	bool		swap = info->orientation >= 5 && info->orientation <= 8;

	*width = swap ? info->height : info->width;
	*height = swap ? info->width : info->height;
}

bool
fc_photo_read_header(const unsigned char *data, size_t len,
					 FcPhotoInfo *info, FcPhotoError *error)
{
	memset(info, 0, sizeof(FcPhotoInfo));
	info->bytes = len;
	info->orientation = 1;
	info->format = fc_photo_format(data, len);
	error->rule = FC_RULE_NONE;
	if (info->format == FC_PHOTO_UNKNOWN)
	{
		fc_photo_fail(error, FC_RULE_UNSUPPORTED, "image format is not recognised");
		fc_photo_detail(error, "The first bytes match none of JPEG, PNG, WebP, HEIC, GIF, BMP, TIFF.");
		return false;
	}
	if (!fc_photo_format_built(info->format))
	{
		if (info->format == FC_PHOTO_WEBP || info->format == FC_PHOTO_HEIF)
		{
			fc_photo_fail(error, FC_RULE_NOT_BUILT, "image is %s, which this build cannot decode",
						  fc_photo_format_name(info->format));
			fc_photo_detail(error, "facecompare was built without the %s library; it lacks: %s.",
							info->format == FC_PHOTO_WEBP ? "libwebp" : "libheif",
							fc_photo_formats_missing());
		}
		else
		{
			fc_photo_fail(error, FC_RULE_UNSUPPORTED, "image is %s, which is not supported",
						  fc_photo_format_name(info->format));
			fc_photo_detail(error, "Supported formats are JPEG, PNG, WebP and HEIC; convert the picture first.");
		}
		return false;
	}
	switch (info->format)
	{
		case FC_PHOTO_JPEG:
			info->header_ok = fc_photo_header_jpeg(data, len, info, error);
			break;
		case FC_PHOTO_PNG:
			info->header_ok = fc_photo_header_png(data, len, info, error);
			break;
		case FC_PHOTO_WEBP:
			info->header_ok = fc_photo_header_webp(data, len, info, error);
			break;
		case FC_PHOTO_HEIF:
			info->header_ok = fc_photo_header_heif(data, len, info, error);
			break;
		default:
			break;
	}
	if (info->header_ok && (info->width <= 0 || info->height <= 0))
		info->header_ok = fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header gives no size (%s)",
										fc_photo_format_name(info->format));
	return info->header_ok;
}

bool
fc_photo_check_header(const unsigned char *data, size_t len,
					  const FcPhotoLimits *limits,
					  FcPhotoInfo *info, FcPhotoError *error)
{
	int			w,
				h;

	memset(info, 0, sizeof(FcPhotoInfo));
	info->bytes = len;
	if (len == 0)
		return fc_photo_fail(error, FC_RULE_EMPTY, "image is empty");
	if ((int64_t) len > limits->max_bytes)
	{
		fc_photo_fail(error, FC_RULE_INPUT_BYTES, "image is too large: %zu bytes", len);
		fc_photo_detail(error, "facecompare.max_image_bytes allows at most %lld bytes.",
						(long long) limits->max_bytes);
		return false;
	}
	if (!fc_photo_read_header(data, len, info, error))
		return false;
	/* Ensure the header's size is within the limits before any pixel is decoded. */
	if (info->width > FC_PHOTO_MAX_SIDE || info->height > FC_PHOTO_MAX_SIDE)
	{
		fc_photo_fail(error, FC_RULE_SIDE, "image is too large: %dx%d pixels", info->width, info->height);
		fc_photo_detail(error, "A side may have at most %d pixels.", FC_PHOTO_MAX_SIDE);
		return false;
	}
	if ((int64_t) info->width * info->height > limits->max_pixels)
	{
		fc_photo_fail(error, FC_RULE_PIXELS, "image has too many pixels: %dx%d is %lld",
					  info->width, info->height, (long long) info->width * info->height);
		fc_photo_detail(error, "facecompare.max_image_pixels allows at most %lld pixels.",
						(long long) limits->max_pixels);
		return false;
	}
	fc_photo_upright_size(info, &w, &h);
	if ((w >= h && (w < FC_PHOTO_MIN_WIDTH || h < FC_PHOTO_MIN_HEIGHT)) ||
		(w < h && (h < FC_PHOTO_MIN_WIDTH || w < FC_PHOTO_MIN_HEIGHT)))
	{
		fc_photo_fail(error, FC_RULE_TOO_SMALL, "image is too small: %dx%d pixels upright", w, h);
		fc_photo_detail(error, "The service refuses pictures smaller than %dx%d (or %dx%d).",
						FC_PHOTO_MIN_WIDTH, FC_PHOTO_MIN_HEIGHT, FC_PHOTO_MIN_HEIGHT, FC_PHOTO_MIN_WIDTH);
		return false;
	}
	return true;
}

/* Add a problem when there is room; count it anyway. */
static void
add_problem(const char **problems, int max_problems, int *nproblems, const char *text)
{
	if (problems && *nproblems < max_problems)
		problems[*nproblems] = text;
	(*nproblems)++;
}

bool
fc_photo_acceptable(const FcPhotoInfo *info,
					const char **problems, int max_problems, int *nproblems)
{
	int			w,
				h,
				lng,
				shrt;
	int			n = 0;

	fc_photo_upright_size(info, &w, &h);
	lng = w > h ? w : h;
	shrt = w > h ? h : w;
	if (info->format != FC_PHOTO_JPEG && info->format != FC_PHOTO_PNG)
		add_problem(problems, max_problems, &n, "the service takes only JPEG or PNG");
	if (info->orientation != 1)
		add_problem(problems, max_problems, &n, "stored rotated or mirrored (EXIF orientation is not 1)");
	if (fc_base64_length(info->bytes) > FC_MAX_ENCODED_PICTURE)
		add_problem(problems, max_problems, &n, "over the service's 1 MB limit once base64-encoded");
	if (lng > FC_PHOTO_MAX_LONG || shrt > FC_PHOTO_MAX_SHORT)
		add_problem(problems, max_problems, &n, "larger than the service's 1920x1080");
	if (lng < FC_PHOTO_MIN_WIDTH || shrt < FC_PHOTO_MIN_HEIGHT)
		add_problem(problems, max_problems, &n, "smaller than the service's 640x480");
	if (nproblems)
		*nproblems = n;
	return n == 0;
}

bool
fc_photo_needs_preparing(const FcPhotoInfo *info, FcPrepareMode mode)
{
	switch (mode)
	{
		case FC_PREPARE_OFF:
			return false;
		case FC_PREPARE_ALWAYS:
			return true;
		case FC_PREPARE_WHEN_NEEDED:
			break;
	}
	return !fc_photo_acceptable(info, NULL, 0, NULL);
}

/*
 * Decode into scaler, which then holds the upright frame (NULL: decode and
 * drop the pixels, to verify).  JPEG streams its scanlines into it; the
 * other libraries give a whole frame, which goes through the same stage.
 */
static bool
decode(const FcPhotoInfo *info, const unsigned char *data, size_t len,
	   const FcPhotoLimits *limits, FcScaler *scaler, FcPhotoJob *job, FcPhotoError *error)
{
	FcPixels	px = {0};
	int			want_w = scaler ? scaler->dw : 1,
				want_h = scaler ? scaler->dh : 1;
	bool		ok;

	switch (info->format)
	{
		case FC_PHOTO_JPEG:
			return fc_photo_stream_jpeg(data, len, scaler, job, error);
		case FC_PHOTO_PNG:
			ok = fc_photo_decode_png(data, len, limits, job, &px, error);
			break;
		case FC_PHOTO_WEBP:
			ok = fc_photo_decode_webp(data, len, want_w, want_h, job, &px, error);
			break;
		case FC_PHOTO_HEIF:
			ok = fc_photo_decode_heif(data, len, limits, job, &px, error);
			break;
		default:
			return fc_photo_fail(error, FC_RULE_UNSUPPORTED, "image is %s, which is not supported",
								 fc_photo_format_name(info->format));
	}
	if (!ok)
		return false;
	if (scaler)
		fc_scaler_frame(scaler, &px);
	fc_mem_free(px.rgb);
	return true;
}

bool
fc_photo_verify(const unsigned char *data, size_t len,
				const FcPhotoLimits *limits, FcPhotoJob *job,
				FcPhotoError *error)
{
	FcPhotoInfo info;

	if (!fc_photo_check_header(data, len, limits, &info, error))
		return false;
	return decode(&info, data, len, limits, NULL, job, error);
}

/* Round a * b / c to the nearest integer, at least 1. */
static int
scaled(int a, double factor)
{
	int			v = (int) (a * factor + 0.5);

	return v < 1 ? 1 : v;
}

bool
fc_photo_prepare(const unsigned char *data, size_t len,
				 const FcPhotoLimits *limits, FcPhotoJob *job,
				 unsigned char **out, size_t *outlen,
				 FcPhotoError *error)
{
	FcPhotoInfo info;
	FcPixels	px = {0};
	int			w,
				h,
				tw,
				th,
				lng,
				shrt;
	double		factor;
	bool		ok = false;

	*out = NULL;
	*outlen = 0;
	if (!fc_photo_check_header(data, len, limits, &info, error))
		return false;

	/* The upright target: shorter side 720, longer at most 1920, never enlarged. */
	fc_photo_upright_size(&info, &w, &h);
	lng = w > h ? w : h;
	shrt = w > h ? h : w;
	factor = (double) FC_PHOTO_TARGET_SHORT / shrt;
	if (lng * factor > FC_PHOTO_MAX_LONG)
		factor = (double) FC_PHOTO_MAX_LONG / lng;
	if (factor > 1.0)
		factor = 1.0;
	tw = scaled(w, factor);
	th = scaled(h, factor);
	if ((tw > th ? th : tw) < FC_PHOTO_MIN_HEIGHT)
	{
		fc_photo_fail(error, FC_RULE_TOO_SMALL,
					  "image cannot fit the service's range: %dx%d scales to %dx%d", w, h, tw, th);
		fc_photo_detail(error, "Its longer side must be at most %d pixels and its shorter at least %d.",
						FC_PHOTO_MAX_LONG, FC_PHOTO_MIN_HEIGHT);
		return false;
	}

	/* Decode at least the target, as stored, into the one upright frame. */
	{
		FcScaler	scaler;

		fc_scaler_init(&scaler, info.orientation >= 5 ? th : tw,
					   info.orientation >= 5 ? tw : th, info.orientation);
		if (!decode(&info, data, len, limits, &scaler, job, error))
		{
			fc_scaler_free(&scaler);
			return false;
		}
		fc_scaler_finish(&scaler, &px);
	}

	/* Quality 90, then lower in steps while a noisy photo is over the cap. */
	ok = false;
	for (int q = FC_PHOTO_QUALITY; q >= FC_PHOTO_MIN_QUALITY; q -= 10)
	{
		if (!fc_photo_encode_jpeg(&px, q, job, out, outlen, error))
			break;
		if (*outlen <= FC_PHOTO_MAX_OUTPUT)
		{
			ok = true;
			break;
		}
		fc_mem_free(*out);
		*out = NULL;
		if (q - 10 < FC_PHOTO_MIN_QUALITY)
		{
			fc_photo_fail(error, FC_RULE_OUTPUT_BYTES,
						  "prepared image is too large: %zu bytes at quality %d", *outlen, q);
			fc_photo_detail(error, "A prepared picture may have at most %d bytes.", FC_PHOTO_MAX_OUTPUT);
		}
	}
	fc_mem_free(px.rgb);
	if (!ok)
		*outlen = 0;
	return ok;
}
