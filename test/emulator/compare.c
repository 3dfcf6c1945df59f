/*
 * compare.c
 *		Decoding and scoring.  An emulator, not a face matcher: it tells "the
 *		same photo" (re-encoded, rescaled, lightly cropped) from "a different
 *		photo", deterministically, and nothing more.
 *
 * Each image becomes an integral image of its luminance.  Two images are
 * compared on a 32x32 grid of area averages, mean- and variance-normalised,
 * by normalised cross-correlation; one of the two is also sampled over a few
 * slightly smaller, shifted windows, which absorbs light crops.  The best
 * correlation maps to the score.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "emulator.h"
#include "image.h"

#define GRID 32

ImageVerdict
image_signature(const unsigned char *data, size_t len, Signature *sig)
{
	int			w,
				h,
				channels;
	unsigned char *pixels;
	int			short_side,
				long_side;
	double		sum = 0,
				sumsq = 0;

	memset(sig, 0, sizeof(*sig));
	if (fc_image_format(data, len) == FC_IMAGE_UNKNOWN || len > INT32_MAX)
		return IMAGE_UNREADABLE;
	pixels = stbi_load_from_memory(data, (int) len, &w, &h, &channels, 1);
	if (pixels == NULL)
		return IMAGE_UNREADABLE;

	short_side = w < h ? w : h;
	long_side = w < h ? h : w;
	if (short_side < FC_MIN_SHORT_SIDE || long_side < FC_MIN_LONG_SIDE ||
		short_side > FC_MAX_SHORT_SIDE || long_side > FC_MAX_LONG_SIDE)
	{
		stbi_image_free(pixels);
		return IMAGE_BAD_RESOLUTION;
	}

	sig->width = w;
	sig->height = h;
	sig->integral = calloc((size_t) (w + 1) * (h + 1), sizeof(double));
	for (int y = 0; y < h; y++)
	{
		double		row = 0;

		for (int x = 0; x < w; x++)
		{
			double		v = pixels[(size_t) y * w + x];

			row += v;
			sum += v;
			sumsq += v * v;
			sig->integral[(size_t) (y + 1) * (w + 1) + (x + 1)] =
				sig->integral[(size_t) y * (w + 1) + (x + 1)] + row;
		}
	}
	stbi_image_free(pixels);
	{
		double		n = (double) w * h;
		double		mean = sum / n;

		sig->contrast = sqrt(fmax(0.0, sumsq / n - mean * mean));
	}
	return sig->contrast < FLAT_CONTRAST ? IMAGE_NO_FACE : IMAGE_OK;
}

void
signature_free(Signature *sig)
{
	free(sig->integral);
	sig->integral = NULL;
}

/* Mean luminance of the rectangle [x0,x1) x [y0,y1), in pixels. */
static double
area_mean(const Signature *s, double x0, double y0, double x1, double y1)
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
	total = s->integral[iy1 * stride + ix1] - s->integral[iy0 * stride + ix1] -
		s->integral[iy1 * stride + ix0] + s->integral[iy0 * stride + ix0];
	return total / ((double) (ix1 - ix0) * (iy1 - iy0));
}

/* Sample a window (fractions of the image) onto the grid, normalised. */
static void
sample_grid(const Signature *s, double fx, double fy, double fw, double fh, double *grid)
{
	double		mean = 0,
				var = 0;

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
		var += grid[i] * grid[i];
	}
	var = sqrt(var);
	for (int i = 0; i < GRID * GRID; i++)
		grid[i] = var > 0 ? grid[i] / var : 0;
}

static double
correlate(const double *a, const double *b)
{
	double		dot = 0;

	for (int i = 0; i < GRID * GRID; i++)
		dot += a[i] * b[i];
	return dot;
}

/* Best correlation of b's full frame against windows of a. */
static double
best_window(const Signature *a, const Signature *b)
{
	static const double scales[] = {1.0, 0.96, 0.92, 0.88};
	double		full[GRID * GRID],
				window[GRID * GRID];
	double		best = -1;

	sample_grid(b, 0, 0, 1, 1, full);
	for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++)
	{
		double		margin = 1.0 - scales[i];
		int			steps = scales[i] < 1.0 ? 2 : 0;

		for (int sy = -steps; sy <= steps; sy++)
			for (int sx = -steps; sx <= steps; sx++)
			{
				double		fx = margin / 2 + sx * margin / (2 * (steps ? steps : 1));
				double		fy = margin / 2 + sy * margin / (2 * (steps ? steps : 1));
				double		c;

				sample_grid(a, fx, fy, scales[i], scales[i], window);
				c = correlate(window, full);
				if (c > best)
					best = c;
			}
	}
	return best;
}

double
compare_signatures(const Signature *a, const Signature *b)
{
	double		ab = best_window(a, b);
	double		ba = best_window(b, a);

	return ab > ba ? ab : ba;
}

/* Correlation r to a score: 100 * max(0, r)^2, two decimals. */
double
score_from_similarity(double similarity)
{
	double		s = similarity < 0 ? 0 : similarity;

	return round(100.0 * s * s * 100.0) / 100.0;
}
