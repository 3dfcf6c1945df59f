/*
 * compare.c
 *		Decoding and scoring.  An emulator, not a face matcher: it tells "the
 *		same photo" (re-encoded, rescaled, lightly cropped) from "a different
 *		photo", deterministically, and nothing more.
 *
 * Each picture's luminance is sampled, through an integral image, onto a
 * 32x32 grid of area averages, mean- and variance-normalised: once for the
 * full frame and once for each of a few slightly smaller, shifted windows
 * (which absorbs light crops).  Two pictures score by the best normalised
 * cross-correlation of one's full frame with the other's windows.  The grids
 * are cached by the SHA-256 of the picture, so a picture sent again costs a
 * hash, as it would at a real service with a cache.
 *
 * Pixels are read as stored, EXIF ignored, as the service reads them; the
 * grids keep their geometry, so a picture turned by 90, 180 or 270 degrees or
 * mirrored scores low against itself upright, as a rotated face does at a
 * face matcher (test/emulator/sdk/orientation.test.js).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "emulator.h"
#include "image.h"
#include "sign.h"

#define GRID 32
#define CACHE_SIZE 16

/*
 * Resolution the service accepts, as (shorter side, longer side) ranges.  The
 * extension leaves the check to the service: only the emulator needs them.
 */
#define MIN_SHORT_SIDE 480
#define MIN_LONG_SIDE 640
#define MAX_SHORT_SIDE 1080
#define MAX_LONG_SIDE 1920

/* The windows sampled: the full frame, then 88-96% crops at 9 offsets each. */
static const double scales[] = {0.96, 0.92, 0.88};
#define NWINDOWS (1 + 3 * 9)

/* What a picture is compared by: its normalised grids, one per window. */
struct Grids
{
	double		cell[NWINDOWS][GRID * GRID];
};

/* Pictures recently seen, by the SHA-256 of their bytes. */
static struct
{
	char		hash[FC_HEX_SHA256_LEN + 1];
	Grids	   *grids;
	double		contrast;
	int			refs;			/* users now, plus one while cached */
	unsigned long used;
}			cache[CACHE_SIZE];
static unsigned long cache_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Luminance and its integral image, while a picture is being sampled. */
typedef struct Integral
{
	int			width;
	int			height;
	double	   *sum;			/* (width+1) x (height+1) */
} Integral;

/* Mean luminance of the rectangle [x0,x1) x [y0,y1), in pixels. */
static double
area_mean(const Integral *s, double x0, double y0, double x1, double y1)
{
	int			ix0 = (int) x0,
				iy0 = (int) y0,
				ix1 = (int) ceil(x1),
				iy1 = (int) ceil(y1);
	size_t		stride = (size_t) s->width + 1;
	double		total;

	if (ix1 <= ix0)
		ix1 = ix0 + 1;
	if (iy1 <= iy0)
		iy1 = iy0 + 1;
	if (ix1 > s->width)
		ix1 = s->width;
	if (iy1 > s->height)
		iy1 = s->height;
	total = s->sum[iy1 * stride + ix1] - s->sum[iy0 * stride + ix1] -
		s->sum[iy1 * stride + ix0] + s->sum[iy0 * stride + ix0];
	return total / ((double) (ix1 - ix0) * (iy1 - iy0));
}

/* Sample a window (fractions of the picture) onto a normalised grid. */
static void
sample_grid(const Integral *s, double fx, double fy, double fw, double fh, double *grid)
{
	double		mean = 0,
				norm = 0;

	for (int gy = 0; gy < GRID; gy++)
		for (int gx = 0; gx < GRID; gx++)
		{
			double		x0 = (fx + fw * gx / GRID) * s->width;
			double		x1 = (fx + fw * (gx + 1) / GRID) * s->width;
			double		y0 = (fy + fh * gy / GRID) * s->height;
			double		y1 = (fy + fh * (gy + 1) / GRID) * s->height;

			grid[gy * GRID + gx] = area_mean(s, x0, y0, x1, y1);
			mean += grid[gy * GRID + gx];
		}
	mean /= GRID * GRID;
	for (int i = 0; i < GRID * GRID; i++)
	{
		grid[i] -= mean;
		norm += grid[i] * grid[i];
	}
	norm = sqrt(norm);
	for (int i = 0; i < GRID * GRID; i++)
		grid[i] = norm > 0 ? grid[i] / norm : 0;
}

/* Decode, check and sample a picture; NULL grids unless IMAGE_OK. */
static ImageVerdict
compute(const unsigned char *data, size_t len, Grids **gridsp, double *contrast)
{
	int			w,
				h,
				channels,
				short_side,
				long_side,
				n = 0;
	unsigned char *pixels;
	Integral	in;
	double		sum = 0,
				sumsq = 0,
				mean;

	*gridsp = NULL;
	*contrast = 0;
	if (fc_image_format(data, len) == FC_IMAGE_UNKNOWN || len > INT32_MAX)
		return IMAGE_UNREADABLE;
	/* The header's size first: a small PNG can claim gigapixels. */
	if (!stbi_info_from_memory(data, (int) len, &w, &h, &channels))
		return IMAGE_UNREADABLE;
	short_side = w < h ? w : h;
	long_side = w < h ? h : w;
	if (short_side < MIN_SHORT_SIDE || long_side < MIN_LONG_SIDE ||
		short_side > MAX_SHORT_SIDE || long_side > MAX_LONG_SIDE)
		return IMAGE_BAD_RESOLUTION;
	pixels = stbi_load_from_memory(data, (int) len, &w, &h, &channels, 1);
	if (pixels == NULL)
		return IMAGE_UNREADABLE;

	in.width = w;
	in.height = h;
	in.sum = calloc((size_t) (w + 1) * (h + 1), sizeof(double));
	for (int y = 0; y < h; y++)
	{
		double		row = 0;

		for (int x = 0; x < w; x++)
		{
			double		v = pixels[(size_t) y * w + x];

			row += v;
			sum += v;
			sumsq += v * v;
			in.sum[(size_t) (y + 1) * (w + 1) + (x + 1)] = in.sum[(size_t) y * (w + 1) + (x + 1)] + row;
		}
	}
	stbi_image_free(pixels);
	mean = sum / ((double) w * h);
	*contrast = sqrt(fmax(0.0, sumsq / ((double) w * h) - mean * mean));
	if (*contrast < FLAT_CONTRAST)
	{
		free(in.sum);
		return IMAGE_NO_FACE;
	}

	*gridsp = malloc(sizeof(Grids));
	sample_grid(&in, 0, 0, 1, 1, (*gridsp)->cell[n++]);
	for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++)
	{
		double		margin = 1.0 - scales[i];

		for (int sy = -1; sy <= 1; sy++)
			for (int sx = -1; sx <= 1; sx++)
				sample_grid(&in, margin / 2 + sx * margin / 2, margin / 2 + sy * margin / 2,
							scales[i], scales[i], (*gridsp)->cell[n++]);
	}
	free(in.sum);
	return IMAGE_OK;
}

/* Drop one reference to a cached entry (or an uncached one). */
static void
release(Grids *grids)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (cache[i].grids == grids)
		{
			cache[i].refs--;
			grids = NULL;
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	free(grids);				/* was never cached, or has been evicted */
}

ImageVerdict
image_signature(const unsigned char *data, size_t len, Signature *sig)
{
	char		hash[FC_HEX_SHA256_LEN + 1];
	ImageVerdict verdict;
	int			victim = 0;

	memset(sig, 0, sizeof(*sig));
	fc_sha256_hex(data, len, hash);
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (cache[i].grids && strcmp(cache[i].hash, hash) == 0)
		{
			cache[i].refs++;
			cache[i].used = ++cache_clock;
			sig->grids = cache[i].grids;
			sig->contrast = cache[i].contrast;
			pthread_mutex_unlock(&cache_lock);
			return IMAGE_OK;
		}
	pthread_mutex_unlock(&cache_lock);

	verdict = compute(data, len, &sig->grids, &sig->contrast);
	if (verdict != IMAGE_OK)
		return verdict;

	/* Cache it in the least recently used slot nobody is using. */
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SIZE; i++)
		if (cache[i].refs <= 1 && (cache[victim].refs > 1 || cache[i].used < cache[victim].used))
			victim = i;
	if (cache[victim].refs <= 1)
	{
		if (cache[victim].grids && cache[victim].refs == 1)
			free(cache[victim].grids);
		strcpy(cache[victim].hash, hash);
		cache[victim].grids = sig->grids;
		cache[victim].contrast = sig->contrast;
		cache[victim].refs = 2;
		cache[victim].used = ++cache_clock;
	}
	pthread_mutex_unlock(&cache_lock);
	return IMAGE_OK;
}

void
signature_free(Signature *sig)
{
	if (sig->grids)
		release(sig->grids);
	sig->grids = NULL;
}

static double
correlate(const double *a, const double *b)
{
	double		dot = 0;

	for (int i = 0; i < GRID * GRID; i++)
		dot += a[i] * b[i];
	return dot;
}

/* Best correlation of either picture's full frame with the other's windows. */
double
compare_signatures(const Signature *a, const Signature *b)
{
	double		best = -1;

	for (int w = 0; w < NWINDOWS; w++)
	{
		double		ab = correlate(a->grids->cell[w], b->grids->cell[0]);
		double		ba = correlate(b->grids->cell[w], a->grids->cell[0]);

		if (ab > best)
			best = ab;
		if (ba > best)
			best = ba;
	}
	return best;
}

/* Correlation r to a score: 100 * max(0, r)^2, two decimals. */
double
score_from_similarity(double similarity)
{
	double		s = similarity < 0 ? 0 : similarity;

	return round(100.0 * s * s * 100.0) / 100.0;
}
