/*
 * prepare-bench.c
 *		Bench-only: prepare one picture with our core (src/photo.h) or, built
 *		with -DWITH_VIPS, with libvips' thumbnail, and print the time or the
 *		peak memory.  test/bench/prepare.sh builds both and runs them side by
 *		side on the same files.
 *
 *	prepare-bench FILE time RUNS	median ms of RUNS preparations (after one
 *									warm-up), and the output's bytes
 *	prepare-bench FILE memory		the rise of the peak resident set (VmHWM)
 *									over one preparation, in kB: run it in a
 *									fresh process for each measurement
 *
 * Both sides do the same job: decode, turn upright by EXIF, scale so the
 * shorter side is 720 px, encode a JPEG at quality 90 with no metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef WITH_VIPS
#include <vips/vips.h>
#else
#include "fcmem.h"
#include "photo.h"
#endif

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *data;
	long		size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
	{
		perror(path);
		exit(2);
	}
	rewind(f);
	data = malloc(size > 0 ? size : 1);
	if (data == NULL || fread(data, 1, size, f) != (size_t) size)
	{
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = size;
	return data;
}

/* The peak resident set so far, in kB. */
static long
peak_rss_kb(void)
{
	FILE	   *f = fopen("/proc/self/status", "r");
	char		line[256];
	long		kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#ifdef WITH_VIPS
/* libvips: thumbnail to shorter side 720 (autorotated), q90, stripped. */
static size_t
prepare(const unsigned char *data, size_t len)
{
	VipsImage  *header,
			   *thumb;
	void	   *out;
	size_t		outlen;
	int			w,
				h;

	/* The header (lazy, no pixels) tells which side is shorter once upright. */
	if ((header = vips_image_new_from_buffer(data, len, "", NULL)) == NULL)
		vips_error_exit("header");
	w = vips_image_get_width(header);
	h = vips_image_get_height(header);
	if (vips_image_get_orientation_swap(header))
	{
		int			t = w;

		w = h;
		h = t;
	}
	g_object_unref(header);
	if (vips_thumbnail_buffer((void *) data, len, &thumb, w <= h ? 720 : VIPS_MAX_COORD,
							  "height", w <= h ? VIPS_MAX_COORD : 720, NULL) != 0)
		vips_error_exit("thumbnail");
	if (vips_jpegsave_buffer(thumb, &out, &outlen, "Q", 90, "strip", TRUE, NULL) != 0)
		vips_error_exit("jpegsave");
	g_object_unref(thumb);
	g_free(out);
	return outlen;
}
#else
/* Ours: the same core the extension links. */
static size_t
prepare(const unsigned char *data, size_t len)
{
	FcPhotoLimits limits = {FC_PHOTO_DEFAULT_MAX_PIXELS, FC_PHOTO_DEFAULT_MAX_BYTES};
	FcPhotoError error;
	unsigned char *out;
	size_t		outlen;

	if (!fc_photo_prepare(data, len, &limits, NULL, &out, &outlen, &error))
	{
		fprintf(stderr, "%s (%s)\n", error.message, error.detail);
		exit(1);
	}
	fc_mem_free(out);
	return outlen;
}
#endif

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	unsigned char *data;
	size_t		len,
				outlen;

	if (argc < 3 || (strcmp(argv[2], "time") == 0 && argc < 4))
	{
		fprintf(stderr, "usage: %s FILE time RUNS | FILE memory\n", argv[0]);
		return 2;
	}
#ifdef WITH_VIPS
	if (VIPS_INIT(argv[0]))
		vips_error_exit("init");
	vips_concurrency_set(1);
	vips_cache_set_max(0);		/* each run decodes again, as ours does */
#endif
	data = read_file(argv[1], &len);
	if (strcmp(argv[2], "memory") == 0)
	{
		long		before = peak_rss_kb();

		prepare(data, len);
		printf("%ld\n", peak_rss_kb() - before);
		return 0;
	}
	else
	{
		int			runs = atoi(argv[3]);
		double	   *ms = malloc(sizeof(double) * (runs > 0 ? runs : 1));

		outlen = prepare(data, len);	/* warm-up: page in the libraries */
		for (int i = 0; i < runs; i++)
		{
			double		t0 = now_ms();

			prepare(data, len);
			ms[i] = now_ms() - t0;
		}
		qsort(ms, runs, sizeof(double), cmp_double);
		printf("%.1f %zu\n", ms[runs / 2], outlen);
		free(ms);
	}
	free(data);
	return 0;
}
