/*
 * photo_jpeg.c
 *		JPEG: the header read by scanning markers (no decoder: size,
 *		orientation, metadata), the decoder wrapper over libjpeg-turbo's
 *		libjpeg API with DCT-domain scaling, and the baseline encoder.
 *
 * libjpeg's default error handler calls exit(): ours longjmps back to the
 * function that owns the decompressor, which destroys it before returning
 * the error.  A warning (a truncated file only warns) is an error too.  The
 * progress monitor asks the job whether to stop, so a long progressive
 * decode ends within a scan's worth of work of a cancel.
 */
#include "photo_int.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "fcmem.h"

/* libjpeg's working memory, decoder or encoder, whatever the picture. */
#define JPEG_MAX_MEMORY		(512L * 1024 * 1024)

/* Header: walk the markers up to the first scan. */
bool
fc_photo_header_jpeg(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error)
{
	size_t		at = 2;
	bool		have_size = false;

	while (at + 4 <= len)
	{
		unsigned	marker;
		size_t		seglen;
		const unsigned char *seg;

		if (d[at] != 0xFF)
			return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is corrupt (JPEG): no marker at byte %zu", at);
		while (at < len && d[at] == 0xFF)
			at++;
		if (at >= len)
			break;
		marker = d[at++];
		if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
			continue;			/* standalone markers */
		if (marker == 0xD9 || marker == 0xDA)
			break;				/* end of image, start of scan */
		if (at + 2 > len)
			break;
		seglen = (size_t) d[at] << 8 | d[at + 1];
		if (seglen < 2 || at + seglen > len)
			return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated (JPEG)");
		seg = d + at + 2;
		seglen -= 2;
		if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
		{
			if (seglen < 6)
				return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated (JPEG frame)");
			info->height = seg[1] << 8 | seg[2];
			info->width = seg[3] << 8 | seg[4];
			have_size = true;
		}
		else if (marker == 0xE1 && seglen >= 6 && memcmp(seg, "Exif\0\0", 6) == 0)
		{
			info->has_metadata = true;
			info->orientation = fc_exif_orientation(seg + 6, seglen - 6);
		}
		else if ((marker >= 0xE1 && marker <= 0xED) || marker == 0xEF || marker == 0xFE)
			info->has_metadata = true;	/* XMP, ICC, IPTC, comments, vendors' */
		at += 2 + seglen;
	}
	if (!have_size)
		return fc_photo_fail(error, FC_RULE_UNDECODABLE, "image header is truncated (JPEG): no frame header before the image data");
	return true;
}

/* Our error manager: where to jump, and why. */
typedef struct JpegGuard
{
	struct jpeg_error_mgr pub;
	struct jpeg_progress_mgr progress;
	jmp_buf		jump;
	FcPhotoJob *job;
	bool		interrupted;
	char		reason[JMSG_LENGTH_MAX];
} JpegGuard;

static void
guard_error_exit(j_common_ptr cinfo)
{
	JpegGuard  *guard = (JpegGuard *) cinfo->err;

	(*cinfo->err->format_message) (cinfo, guard->reason);
	longjmp(guard->jump, 1);
}

/* Warnings (level -1) are errors: a truncated or corrupt file only warns. */
static void
guard_emit_message(j_common_ptr cinfo, int level)
{
	if (level < 0)
		guard_error_exit(cinfo);
}

static void
guard_progress(j_common_ptr cinfo)
{
	JpegGuard  *guard = (JpegGuard *) cinfo->err;

	if (fc_photo_job_interrupted(guard->job))
	{
		guard->interrupted = true;
		strcpy(guard->reason, "interrupted");
		longjmp(guard->jump, 1);
	}
}

static void
guard_init(JpegGuard *guard, j_common_ptr cinfo, FcPhotoJob *job)
{
	memset(guard, 0, sizeof(JpegGuard));
	cinfo->err = jpeg_std_error(&guard->pub);
	guard->pub.error_exit = guard_error_exit;
	guard->pub.emit_message = guard_emit_message;
	guard->progress.progress_monitor = guard_progress;
	guard->job = job;
}

/* A decoder and its guard live together, in our memory, for the job. */
typedef struct JpegDecoder
{
	struct jpeg_decompress_struct cinfo;
	JpegGuard	guard;
	unsigned char *row;			/* the scanline as decoded (RGB or CMYK) */
	unsigned char *rgb;			/* a CMYK scanline made RGB */
} JpegDecoder;

static void
release_decoder(void *p)
{
	JpegDecoder *dec = p;

	jpeg_destroy_decompress(&dec->cinfo);
	if (dec->row)
		fc_mem_free(dec->row);
	if (dec->rgb)
		fc_mem_free(dec->rgb);
	fc_mem_free(dec);
}

/* CMYK to RGB; Adobe's files store the channels inverted. */
static void
cmyk_row_to_rgb(const unsigned char *cmyk, unsigned char *rgb, int width, bool inverted)
{
	for (int x = 0; x < width; x++, cmyk += 4, rgb += 3)
	{
		unsigned	k = inverted ? cmyk[3] : 255 - cmyk[3];

		for (int c = 0; c < 3; c++)
		{
			unsigned	v = inverted ? cmyk[c] : 255 - cmyk[c];

			rgb[c] = (unsigned char) ((v * k + 127) / 255);
		}
	}
}

/*
 * Only one scanline is ever held: each goes to the scaler as soon as it is
 * decoded, so no frame at the DCT scale exists.
 */
bool
fc_photo_stream_jpeg(const unsigned char *d, size_t len, FcScaler *scaler,
					 FcPhotoJob *job, FcPhotoError *error)
{
	JpegDecoder *volatile dec = fc_mem_alloc(sizeof(JpegDecoder));
	volatile int slot = -1;
	int			want_w = scaler ? scaler->dw : 1,
				want_h = scaler ? scaler->dh : 1,
				width;
	bool		cmyk;

	memset(dec, 0, sizeof(JpegDecoder));
	guard_init(&dec->guard, (j_common_ptr) &dec->cinfo, job);
	if (setjmp(dec->guard.jump))
	{
		fc_photo_decode_failed(error, dec->guard.interrupted, "JPEG", "libjpeg", dec->guard.reason);
		if (scaler)
			fc_scaler_free(scaler);
		fc_photo_job_drop(job, slot, dec, release_decoder);
		return false;
	}
	jpeg_create_decompress(&dec->cinfo);
	slot = fc_photo_job_hold(job, dec, release_decoder);
	dec->cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
	dec->cinfo.progress = &dec->guard.progress;
	jpeg_mem_src(&dec->cinfo, d, (unsigned long) len);
	jpeg_read_header(&dec->cinfo, TRUE);

	cmyk = dec->cinfo.jpeg_color_space == JCS_CMYK || dec->cinfo.jpeg_color_space == JCS_YCCK;
	dec->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	dec->cinfo.dct_method = JDCT_ISLOW;
	/* The smallest DCT scale M/8 that still gives at least the target. */
	dec->cinfo.scale_denom = 8;
	for (unsigned num = 1; num <= 8; num++)
	{
		dec->cinfo.scale_num = num;
		jpeg_calc_output_dimensions(&dec->cinfo);
		if ((int) dec->cinfo.output_width >= want_w && (int) dec->cinfo.output_height >= want_h)
			break;
	}
	jpeg_start_decompress(&dec->cinfo);
	width = dec->cinfo.output_width;
	dec->row = fc_mem_alloc((size_t) width * (cmyk ? 4 : 3));
	if (cmyk)
		dec->rgb = fc_mem_alloc((size_t) width * 3);
	if (scaler)
		fc_scaler_start(scaler, width, dec->cinfo.output_height);
	while (dec->cinfo.output_scanline < dec->cinfo.output_height)
	{
		JSAMPROW	row = dec->row;

		jpeg_read_scanlines(&dec->cinfo, &row, 1);
		if (cmyk)
			cmyk_row_to_rgb(dec->row, dec->rgb, width, dec->cinfo.saw_Adobe_marker);
		if (scaler)
			fc_scaler_row(scaler, cmyk ? dec->rgb : dec->row);
	}
	jpeg_finish_decompress(&dec->cinfo);
	fc_photo_job_drop(job, slot, dec, release_decoder);
	return true;
}

/* An encoder, its guard and libjpeg's output buffer (malloc'd by libjpeg). */
typedef struct JpegEncoder
{
	struct jpeg_compress_struct cinfo;
	JpegGuard	guard;
	unsigned char *buf;
	unsigned long size;
} JpegEncoder;

static void
release_encoder(void *p)
{
	JpegEncoder *enc = p;

	jpeg_destroy_compress(&enc->cinfo);
	free(enc->buf);
	fc_mem_free(enc);
}

bool
fc_photo_encode_jpeg(const FcPixels *px, int quality, FcPhotoJob *job,
					 unsigned char **out, size_t *outlen, FcPhotoError *error)
{
	JpegEncoder *volatile enc = fc_mem_alloc(sizeof(JpegEncoder));
	volatile int slot = -1;

	memset(enc, 0, sizeof(JpegEncoder));
	guard_init(&enc->guard, (j_common_ptr) &enc->cinfo, job);
	if (setjmp(enc->guard.jump))
	{
		if (enc->guard.interrupted)
			fc_photo_fail(error, FC_RULE_INTERRUPTED, "image preparation was interrupted");
		else
		{
			fc_photo_fail(error, FC_RULE_UNDECODABLE, "image cannot be encoded as JPEG");
			fc_photo_detail(error, "libjpeg: %s.", enc->guard.reason);
		}
		fc_photo_job_drop(job, slot, enc, release_encoder);
		return false;
	}
	jpeg_create_compress(&enc->cinfo);
	slot = fc_photo_job_hold(job, enc, release_encoder);
	enc->cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
	enc->cinfo.progress = &enc->guard.progress;
	jpeg_mem_dest(&enc->cinfo, &enc->buf, &enc->size);
	enc->cinfo.image_width = px->width;
	enc->cinfo.image_height = px->height;
	enc->cinfo.input_components = 3;
	enc->cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&enc->cinfo);
	/*
	 * Baseline, 4:2:0, the standard Huffman tables (the defaults): fitting
	 * the tables to the picture would make libjpeg buffer the whole
	 * picture's coefficients (2 MB at 720x960, as much as the frame) for
	 * about 10% fewer bytes, which the 750,000-byte cap does not need.
	 */
	jpeg_set_quality(&enc->cinfo, quality, TRUE);
	enc->cinfo.optimize_coding = FALSE;
	enc->cinfo.dct_method = JDCT_ISLOW;
	/* Only a JFIF APP0 marker is written: no EXIF, GPS, XMP, ICC or comment. */
	jpeg_start_compress(&enc->cinfo, TRUE);
	while (enc->cinfo.next_scanline < enc->cinfo.image_height)
	{
		JSAMPROW	row = px->rgb + (size_t) enc->cinfo.next_scanline * px->width * 3;

		jpeg_write_scanlines(&enc->cinfo, &row, 1);
	}
	jpeg_finish_compress(&enc->cinfo);
	*outlen = enc->size;
	*out = fc_mem_alloc(enc->size);
	memcpy(*out, enc->buf, enc->size);
	fc_photo_job_drop(job, slot, enc, release_encoder);
	return true;
}
