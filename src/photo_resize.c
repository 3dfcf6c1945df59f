/*
 * photo_resize.c
 *		The streaming scale-and-turn stage (photo_int.h's FcScaler): a
 *		separable Mitchell resampler for 8-bit RGB that takes the decoder's
 *		rows one at a time, keeps only the few horizontally scaled rows its
 *		vertical filter spans, and writes each output row at its upright
 *		place in the one output frame.  Turning while writing costs no frame
 *		of its own; for orientations 5-8 an output row becomes a column.
 */
#include "photo_int.h"

#include <math.h>
#include <string.h>

#include "fcmem.h"

/* Mitchell-Netravali, B = C = 1/3: the filter of stb_image_resize and ImageMagick's default. */
static double
mitchell(double x)
{
	const double B = 1.0 / 3,
				C = 1.0 / 3;

	x = fabs(x);
	if (x < 1)
		return ((12 - 9 * B - 6 * C) * x * x * x + (-18 + 12 * B + 6 * C) * x * x + (6 - 2 * B)) / 6;
	if (x < 2)
		return ((-B - 6 * C) * x * x * x + (6 * B + 30 * C) * x * x + (-12 * B - 48 * C) * x + (8 * B + 24 * C)) / 6;
	return 0;
}

/*
 * The weights mapping in input samples to out: per output sample its first
 * input, count and weights (taps of them, zero-padded).  Sample centres
 * line up (pixel-area alignment); downscaling widens the kernel by the
 * ratio; an input beyond an edge counts as the edge's; the weights sum to 1.
 * A size that does not change is a copy (Mitchell does not interpolate).
 */
static void
make_filter(int in, int out, int **lo, int **n, float **w, int *taps)
{
	double		ratio = (double) in / out,
				scale = ratio > 1 ? ratio : 1,
				radius = 2 * scale;

	*taps = in == out ? 1 : (int) ceil(2 * radius) + 1;
	if (*taps > in)
		*taps = in;
	*lo = fc_mem_alloc(sizeof(int) * out);
	*n = fc_mem_alloc(sizeof(int) * out);
	*w = fc_mem_alloc(sizeof(float) * out * *taps);
	memset(*w, 0, sizeof(float) * out * *taps);
	for (int o = 0; o < out; o++)
	{
		float	   *wo = *w + (size_t) o * *taps;
		double		centre,
					sum = 0;
		int			first,
					last;

		if (in == out)
		{
			(*lo)[o] = o;
			(*n)[o] = 1;
			wo[0] = 1;
			continue;
		}
		centre = (o + 0.5) * ratio - 0.5;
		first = (int) ceil(centre - radius);
		last = (int) floor(centre + radius);
		(*lo)[o] = first < 0 ? 0 : first;
		(*n)[o] = (last > in - 1 ? in - 1 : last) - (*lo)[o] + 1;
		if ((*n)[o] > *taps)
			(*n)[o] = *taps;
		for (int i = first; i <= last; i++)
		{
			int			at = i < 0 ? 0 : i > in - 1 ? in - 1 : i;
			double		k = mitchell((i - centre) / scale);

			if (at - (*lo)[o] < (*n)[o])
				wo[at - (*lo)[o]] += (float) k;
			sum += k;
		}
		for (int t = 0; t < (*n)[o]; t++)
			wo[t] = (float) (wo[t] / sum);
	}
}

void
fc_scaler_init(FcScaler *s, int dw, int dh, int orientation)
{
	memset(s, 0, sizeof(FcScaler));
	s->dw = dw;
	s->dh = dh;
	s->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
}

void
fc_scaler_start(FcScaler *s, int sw, int sh)
{
	bool		swap = s->orientation >= 5;

	s->sw = sw;
	s->sh = sh;
	make_filter(sw, s->dw, &s->hlo, &s->hn, &s->hw, &s->htaps);
	make_filter(sh, s->dh, &s->vlo, &s->vn, &s->vw, &s->vtaps);
	s->ring = fc_mem_alloc(sizeof(float) * s->vtaps * s->dw * 3);
	s->acc = fc_mem_alloc(sizeof(float) * s->dw * 3);
	s->out.width = swap ? s->dh : s->dw;
	s->out.height = swap ? s->dw : s->dh;
	s->out.rgb = fc_mem_alloc((size_t) s->dw * s->dh * 3);
}

/*
 * Where stored output pixel (0, y) goes in the upright frame, and the step
 * in bytes to the next pixel of the row: the inverse of each EXIF turn.
 */
static void
upright_place(const FcScaler *s, int y, size_t *base, ptrdiff_t *step)
{
	size_t		uw = s->out.width,
				w = s->dw,
				h = s->dh;

	switch (s->orientation)
	{
		case 2:
			*base = y * uw + w - 1, *step = -1;
			break;
		case 3:
			*base = (h - 1 - y) * uw + w - 1, *step = -1;
			break;
		case 4:
			*base = (h - 1 - y) * uw, *step = 1;
			break;
		case 5:
			*base = y, *step = uw;
			break;
		case 6:
			*base = h - 1 - y, *step = uw;
			break;
		case 7:
			*base = (w - 1) * uw + h - 1 - y, *step = -(ptrdiff_t) uw;
			break;
		case 8:
			*base = (w - 1) * uw + y, *step = -(ptrdiff_t) uw;
			break;
		default:
			*base = y * uw, *step = 1;
			break;
	}
	*base *= 3;
	*step *= 3;
}

static inline unsigned char
to_byte(float v)
{
	return v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char) (v + 0.5f);
}

/* Output row y from the ring, written at its upright place. */
static void
emit_row(FcScaler *s, int y)
{
	const float *w = s->vw + (size_t) y * s->vtaps;
	int			lo = s->vlo[y],
				n = s->vn[y],
				len = s->dw * 3;
	float	   *acc = s->acc;
	size_t		base;
	ptrdiff_t	step;
	unsigned char *o;

	memset(acc, 0, sizeof(float) * len);
	for (int t = 0; t < n; t++)
	{
		const float *row = s->ring + (size_t) ((lo + t) % s->vtaps) * len;
		float		wt = w[t];

		for (int i = 0; i < len; i++)
			acc[i] += wt * row[i];
	}
	upright_place(s, y, &base, &step);
	o = s->out.rgb + base;
	for (int x = 0; x < s->dw; x++, o += step)
	{
		o[0] = to_byte(acc[x * 3]);
		o[1] = to_byte(acc[x * 3 + 1]);
		o[2] = to_byte(acc[x * 3 + 2]);
	}
}

void
fc_scaler_row(FcScaler *s, const unsigned char *rgb)
{
	float	   *h;

	if (s->rows_in >= s->sh)
		return;
	if (s->htaps == 1 && s->vtaps == 1 && s->sw == s->dw && s->sh == s->dh)
	{
		/* Same size: the row is only turned. */
		size_t		base;
		ptrdiff_t	step;
		unsigned char *o;

		upright_place(s, s->rows_in, &base, &step);
		o = s->out.rgb + base;
		if (step == 3)
			memcpy(o, rgb, (size_t) s->dw * 3);
		else
			for (int x = 0; x < s->dw; x++, o += step, rgb += 3)
				memcpy(o, rgb, 3);
		s->rows_out = ++s->rows_in;
		return;
	}
	/* Horizontal pass into the ring's slot for this row. */
	h = s->ring + (size_t) (s->rows_in % s->vtaps) * s->dw * 3;
	for (int x = 0; x < s->dw; x++)
	{
		const unsigned char *p = rgb + (size_t) s->hlo[x] * 3;
		const float *w = s->hw + (size_t) x * s->htaps;
		float		r = 0,
					g = 0,
					b = 0;

		for (int t = 0; t < s->hn[x]; t++, p += 3)
		{
			r += w[t] * p[0];
			g += w[t] * p[1];
			b += w[t] * p[2];
		}
		h[x * 3] = r;
		h[x * 3 + 1] = g;
		h[x * 3 + 2] = b;
	}
	/* Every output row whose last input row this is. */
	while (s->rows_out < s->dh && s->vlo[s->rows_out] + s->vn[s->rows_out] - 1 <= s->rows_in)
		emit_row(s, s->rows_out++);
	s->rows_in++;
}

void
fc_scaler_finish(FcScaler *s, FcPixels *px)
{
	*px = s->out;
	memset(&s->out, 0, sizeof(FcPixels));
	fc_scaler_free(s);
}

void
fc_scaler_free(FcScaler *s)
{
	void	   *bufs[] = {s->hlo, s->hn, s->hw, s->vlo, s->vn, s->vw, s->ring, s->acc, s->out.rgb};

	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		if (bufs[i])
			fc_mem_free(bufs[i]);
	s->hlo = s->hn = s->vlo = s->vn = NULL;
	s->hw = s->vw = s->ring = s->acc = NULL;
	s->out.rgb = NULL;
}

void
fc_scaler_frame(FcScaler *s, const FcPixels *px)
{
	fc_scaler_start(s, px->width, px->height);
	for (int y = 0; y < px->height; y++)
		fc_scaler_row(s, px->rgb + (size_t) y * px->width * 3);
}

bool
fc_photo_resize_orient(FcPixels *px, int width, int height, int orientation,
					   FcPhotoError *error)
{
	FcScaler	s;

	(void) error;
	fc_scaler_init(&s, width, height, orientation);
	fc_scaler_frame(&s, px);
	fc_mem_free(px->rgb);
	fc_scaler_finish(&s, px);
	return true;
}
