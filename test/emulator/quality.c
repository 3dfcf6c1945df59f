/*
 * quality.c
 *		Result.ExtFaceInfo: the face-quality scores the service adds when a
 *		request asks for FaceQualityCheck=Y.  An emulator, not a quality
 *		model: each score is a simple, documented measure of the source
 *		picture's luminance, so the same picture always gets the same scores
 *		and a blurred, darkened or covered picture gets lower ones.
 *
 *  IlluminationScore  mean brightness: 100 at mid-grey (128), falling
 *                     linearly to 0 at black or white.
 *  SharpnessScore     edge energy: the mean absolute difference between
 *                     neighbouring pixels, E, as 100 * (1 - exp(-E / 3)).
 *  OcclusionScore     the share of the face area (the middle 60% across,
 *                     20-90% down) whose 8x8-cell grid cells are not flat
 *                     (a flat cell, luminance deviation under 4, is
 *                     something uniform covering the face).
 *  KaOcclusionScore   the same over the key area (eyes, nose and mouth:
 *                     the middle 50% across, 30-75% down).
 *  FaceQualityScore   0.4 sharpness + 0.3 illumination + 0.15 occlusion
 *                     + 0.15 key-area occlusion.
 *
 * Every score is rounded to two decimals, as the service's are.
 */
#include <math.h>
#include <stdlib.h>

#include <stb/stb_image.h>

#include "emulator.h"

/* Cells per side of the occlusion grids. */
#define CELLS 8

static double
round2(double v)
{
	return round(fmin(100.0, fmax(0.0, v)) * 100.0) / 100.0;
}

/*
 * Percentage of the cells of [x0,x1) x [y0,y1) (fractions of the frame)
 * that are not flat.
 */
static double
uncovered_share(const unsigned char *pixels, int w, int h,
				double x0, double x1, double y0, double y1)
{
	int			left = (int) (x0 * w),
				top = (int) (y0 * h),
				width = (int) ((x1 - x0) * w),
				height = (int) ((y1 - y0) * h);
	int			uncovered = 0;

	for (int cy = 0; cy < CELLS; cy++)
		for (int cx = 0; cx < CELLS; cx++)
		{
			int			ys = top + cy * height / CELLS,
						ye = top + (cy + 1) * height / CELLS,
						xs = left + cx * width / CELLS,
						xe = left + (cx + 1) * width / CELLS;
			double		sum = 0,
						sumsq = 0,
						n = (double) (ye - ys) * (xe - xs),
						mean;

			for (int y = ys; y < ye; y++)
				for (int x = xs; x < xe; x++)
				{
					double		v = pixels[(size_t) y * w + x];

					sum += v;
					sumsq += v * v;
				}
			mean = n > 0 ? sum / n : 0;
			if (n > 0 && sqrt(fmax(0.0, sumsq / n - mean * mean)) >= FLAT_CONTRAST)
				uncovered++;
		}
	return 100.0 * uncovered / (CELLS * CELLS);
}

bool
quality_scores(const unsigned char *data, size_t len, QualityScores *out)
{
	int			w,
				h,
				channels;
	unsigned char *pixels;
	double		sum = 0,
				edges = 0,
				mean;

	if (len > INT32_MAX ||
		(pixels = stbi_load_from_memory(data, (int) len, &w, &h, &channels, 1)) == NULL)
		return false;
	if (w < 2 || h < 2)
	{
		stbi_image_free(pixels);
		return false;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
		{
			int			v = pixels[(size_t) y * w + x];

			sum += v;
			if (x + 1 < w)
				edges += abs(pixels[(size_t) y * w + x + 1] - v);
			if (y + 1 < h)
				edges += abs(pixels[(size_t) (y + 1) * w + x] - v);
		}
	mean = sum / ((double) w * h);
	/* Each inner pixel has two neighbour differences counted. */
	edges /= (double) (w - 1) * h + (double) w * (h - 1);

	out->illumination = round2(100.0 * (1.0 - fabs(mean - 128.0) / 128.0));
	out->sharpness = round2(100.0 * (1.0 - exp(-edges / 3.0)));
	out->occlusion = round2(uncovered_share(pixels, w, h, 0.2, 0.8, 0.2, 0.9));
	out->ka_occlusion = round2(uncovered_share(pixels, w, h, 0.25, 0.75, 0.3, 0.75));
	out->face_quality = round2(0.4 * out->sharpness + 0.3 * out->illumination +
							   0.15 * out->occlusion + 0.15 * out->ka_occlusion);
	stbi_image_free(pixels);
	return true;
}
