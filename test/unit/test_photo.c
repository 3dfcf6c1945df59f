/*
 * test_photo.c
 *		Unit tests of the preparation core: the bounded EXIF orientation
 *		reader, the header readers' limits, the eight orientations on known
 *		pixels, the 750,000-byte output cap and an interrupted decode.
 */
#include <stdlib.h>
#include <string.h>

#include "fcmem.h"
#include "photo_int.h"
#include "tap.h"

/* A TIFF block with IFD0 holding one entry (tag, type, count, value). */
static size_t
tiff_block(unsigned char *b, int le, unsigned tag, unsigned type, unsigned count, unsigned value)
{
#define P16(at, v) do { if (le) { b[at] = (v) & 0xFF; b[at + 1] = (v) >> 8; } else { b[at] = (v) >> 8; b[at + 1] = (v) & 0xFF; } } while (0)
#define P32(at, v) do { if (le) { P16(at, (v) & 0xFFFF); P16(at + 2, (v) >> 16); } else { P16(at, (v) >> 16); P16(at + 2, (v) & 0xFFFF); } } while (0)
	memset(b, 0, 64);
	b[0] = b[1] = le ? 'I' : 'M';
	P16(2, 42);
	P32(4, 8);
	P16(8, 2);					/* two entries: another tag, then ours */
	P16(10, 0x010F);
	P16(12, 2);
	P32(14, 4);
	P16(22, tag);
	P16(24, type);
	P32(26, count);
	P16(30, value);
	return 8 + 2 + 2 * 12 + 4;
#undef P16
#undef P32
}

static void
test_exif(void)
{
	unsigned char b[64];
	size_t		n;
	int			all = 1;

	for (int le = 0; le <= 1; le++)
		for (unsigned o = 1; o <= 8; o++)
		{
			n = tiff_block(b, le, 0x0112, 3, 1, o);
			all &= fc_exif_orientation(b, n) == (int) o;
		}
	ok(all, "orientation 1-8 read in both byte orders");
	n = tiff_block(b, 1, 0x0112, 3, 1, 9);
	ok(fc_exif_orientation(b, n) == 1, "an out-of-range value means 1");
	n = tiff_block(b, 1, 0x0112, 4, 1, 6);
	ok(fc_exif_orientation(b, n) == 1, "a value of the wrong type means 1");
	n = tiff_block(b, 1, 0x0112, 3, 1, 6);
	ok(fc_exif_orientation(b, n - 10) == 1, "an entry cut short is not read");
	ok(fc_exif_orientation(b, 7) == 1 && fc_exif_orientation(NULL, 0) == 1, "a block shorter than its header means 1");
	b[4] = 0xF0;
	ok(fc_exif_orientation(b, n) == 1, "an IFD offset past the end is not followed");
	n = tiff_block(b, 1, 0x0112, 3, 1, 6);
	b[8] = 0xFF;
	b[9] = 0xFF;
	ok(fc_exif_orientation(b, n) == 1, "a huge entry count is refused");
	b[0] = 'X';
	ok(fc_exif_orientation(b, n) == 1, "no byte-order mark means 1");
}

static void
test_headers(void)
{
	/* SOI, APP1 Exif with orientation 8, SOF0 4000x3000, SOS. */
	unsigned char j[200] = {0xFF, 0xD8, 0xFF, 0xE1};
	unsigned char tiff[64];
	size_t		tn = tiff_block(tiff, 0, 0x0112, 3, 1, 8);
	size_t		at = 4;
	FcPhotoInfo info;
	FcPhotoError err;
	FcPhotoLimits limits = {FC_PHOTO_DEFAULT_MAX_PIXELS, FC_PHOTO_DEFAULT_MAX_BYTES};

	j[at++] = 0;
	j[at++] = (unsigned char) (2 + 6 + tn);
	memcpy(j + at, "Exif\0\0", 6);
	at += 6;
	memcpy(j + at, tiff, tn);
	at += tn;
	memcpy(j + at, "\xFF\xC0\x00\x11\x08\x0B\xB8\x0F\xA0\x03", 10);
	at += 10 + 9;
	memcpy(j + at, "\xFF\xDA", 2);
	at += 2;
	ok(fc_photo_read_header(j, at, &info, &err) && info.width == 4000 && info.height == 3000 &&
	   info.orientation == 8 && info.has_metadata, "JPEG header: size, orientation and metadata from the markers");
	ok(fc_photo_check_header(j, at, &limits, &info, &err), "a 12 MP header passes the limits");
	limits.max_pixels = 11999999;
	ok(!fc_photo_check_header(j, at, &limits, &info, &err) && err.rule == FC_RULE_PIXELS,
	   "one pixel over max_pixels is refused from the header");
	limits.max_pixels = FC_PHOTO_DEFAULT_MAX_PIXELS;
	limits.max_bytes = (int64_t) at - 1;
	ok(!fc_photo_check_header(j, at, &limits, &info, &err) && err.rule == FC_RULE_INPUT_BYTES,
	   "one byte over max_bytes is refused");
	ok(!fc_photo_read_header(j, 30, &info, &err) && err.rule == FC_RULE_UNDECODABLE,
	   "a JPEG cut inside its markers has an unreadable header");
	ok(!fc_photo_read_header((const unsigned char *) "GIF89a....", 10, &info, &err) &&
	   err.rule == FC_RULE_UNSUPPORTED && strstr(err.message, "GIF") != NULL,
	   "GIF is named as unsupported");
	ok(fc_photo_format((const unsigned char *) "\0\0\0\x18" "ftypheic", 12) == FC_PHOTO_HEIF,
	   "HEIC is recognised by its ftyp brand");
}

/* Pixel (x, y) of a w x h test picture: a distinct colour each. */
static void
fill(FcPixels *px, int w, int h)
{
	px->width = w;
	px->height = h;
	px->rgb = fc_mem_alloc((size_t) w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
		{
			px->rgb[(y * w + x) * 3] = (unsigned char) x;
			px->rgb[(y * w + x) * 3 + 1] = (unsigned char) y;
			px->rgb[(y * w + x) * 3 + 2] = 0;
		}
}

static void
test_orientations(void)
{
	/*
	 * The upright picture is 3 wide, 2 high; for each orientation, where
	 * upright (0, 0) and (2, 0) were stored (x, y) in the stored picture.
	 */
	static const int stored[9][5] = {
		/* sw, sh, (0,0) at sx, sy, and (2,0) at index */
		{0}, {3, 2, 0, 0, 2}, {3, 2, 2, 0, 0}, {3, 2, 2, 1, 0}, {3, 2, 0, 1, 2},
		{2, 3, 0, 0, 2}, {2, 3, 0, 2, 0}, {2, 3, 1, 2, 0}, {2, 3, 1, 0, 2}};
	FcPhotoError err;
	int			all = 1;

	for (int o = 1; o <= 8; o++)
	{
		FcPixels	px;
		int			sw = stored[o][0],
					sh = stored[o][1];

		fill(&px, sw, sh);
		all &= fc_photo_resize_orient(&px, sw, sh, o, &err) && px.width == 3 && px.height == 2;
		/* upright (0,0) is stored (sx, sy): its colour is (sx, sy). */
		all &= px.rgb[0] == stored[o][2] && px.rgb[1] == stored[o][3];
		if (!all)
			printf("# orientation %d: (0,0) got (%d,%d)\n", o, px.rgb[0], px.rgb[1]);
		fc_mem_free(px.rgb);
	}
	ok(all, "all eight orientations put the stored pixels upright");
}

/*
 * The streaming scaler, scaling and turning at once: a 37x23 picture scaled
 * to 17x11 then turned by each orientation holds, at each upright place,
 * the pixel the unturned scaling put where that orientation stores it; a
 * flat colour stays flat; an input row given past the last is ignored.
 */
static void
test_scaler(void)
{
	FcPixels	ref,
				px;
	FcPhotoError err;
	int			all = 1,
				flat = 1;

	fill(&ref, 37, 23);
	fc_photo_resize_orient(&ref, 17, 11, 1, &err);
	all &= ref.width == 17 && ref.height == 11;
	for (int o = 2; o <= 8; o++)
	{
		bool		swap = o >= 5;
		int			uw = swap ? 11 : 17,
					uh = swap ? 17 : 11;

		fill(&px, 37, 23);
		fc_photo_resize_orient(&px, 17, 11, o, &err);
		all &= px.width == uw && px.height == uh;
		for (int y = 0; all && y < uh; y++)
			for (int x = 0; x < uw; x++)
			{
				int			sx,
							sy;

				switch (o)
				{
					case 2: sx = 16 - x, sy = y; break;
					case 3: sx = 16 - x, sy = 10 - y; break;
					case 4: sx = x, sy = 10 - y; break;
					case 5: sx = y, sy = x; break;
					case 6: sx = y, sy = 10 - x; break;
					case 7: sx = 16 - y, sy = 10 - x; break;
					default: sx = 16 - y, sy = x; break;
				}
				if (memcmp(px.rgb + (y * uw + x) * 3, ref.rgb + (sy * 17 + sx) * 3, 3) != 0)
				{
					printf("# orientation %d: (%d,%d) differs\n", o, x, y);
					all = 0;
					break;
				}
			}
		fc_mem_free(px.rgb);
	}
	fc_mem_free(ref.rgb);
	ok(all, "scaling while turning puts each scaled pixel at its upright place");

	{
		FcScaler	s;
		unsigned char row[200 * 3];

		memset(row, 77, sizeof(row));
		fc_scaler_init(&s, 60, 45, 6);
		fc_scaler_start(&s, 200, 150);
		for (int y = 0; y < 151; y++)
			fc_scaler_row(&s, row);
		fc_scaler_finish(&s, &px);
		for (int i = 0; i < 60 * 45 * 3; i++)
			flat &= px.rgb[i] == 77;
		flat &= px.width == 45 && px.height == 60;
		fc_mem_free(px.rgb);
	}
	ok(flat, "a flat colour scaled by 0.3 stays flat to the edges");
}

static bool
always_stop(void *arg)
{
	(void) arg;
	return true;
}

static void
test_cap_and_interrupt(void)
{
	FcPixels	px;
	FcPhotoError err;
	FcPhotoJob	job;
	FcPhotoLimits limits = {FC_PHOTO_DEFAULT_MAX_PIXELS, FC_PHOTO_DEFAULT_MAX_BYTES};
	unsigned char *in,
			   *out,
			   *q90;
	size_t		inlen,
				outlen,
				q90len;
	uint32_t	seed = 12345;
	int			released = 1;

	/* 720x1920 of noise: the worst case for a JPEG encoder. */
	px.width = 720;
	px.height = 1920;
	px.rgb = fc_mem_alloc((size_t) 720 * 1920 * 3);
	for (size_t i = 0; i < (size_t) 720 * 1920 * 3; i++)
	{
		seed = seed * 1103515245 + 12345;
		px.rgb[i] = (unsigned char) (seed >> 16);
	}
	ok(fc_photo_encode_jpeg(&px, 100, NULL, &in, &inlen, &err), "noise encoded at quality 100");
	ok(fc_photo_encode_jpeg(&px, FC_PHOTO_QUALITY, NULL, &q90, &q90len, &err) && q90len > FC_PHOTO_MAX_OUTPUT,
	   "at quality 90 it would be over 750,000 bytes");
	ok(fc_photo_prepare(in, inlen, &limits, NULL, &out, &outlen, &err) && outlen <= FC_PHOTO_MAX_OUTPUT,
	   "prepared, it is stepped down to at most 750,000 bytes");
	printf("# q100 input %zu bytes, q90 %zu bytes, prepared %zu bytes\n", inlen, q90len, outlen);
	fc_mem_free(out);

	fc_photo_job_init(&job, always_stop, NULL);
	ok(!fc_photo_prepare(in, inlen, &limits, &job, &out, &outlen, &err) && err.rule == FC_RULE_INTERRUPTED,
	   "a decode whose job says stop ends as interrupted");
	for (int i = 0; i < 4; i++)
		released &= job.live[i] == NULL;
	ok(released, "and leaves no library state live");
	fc_mem_free(in);
	fc_mem_free(q90);
	fc_mem_free(px.rgb);
}

int
main(void)
{
	test_exif();
	test_headers();
	test_orientations();
	test_scaler();
	test_cap_and_interrupt();
	return tap_done();
}
