/*
 * fc_prepare.c
 *		The preparation core outside the server: read a picture, print what
 *		its header says and whether the service would take it, prepare it
 *		(timed), and write the result.  For test/bench and for trying a file.
 *
 *	fc_prepare [-n N] in [out.jpg]		N: repeat the preparation, print the median
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcmem.h"
#include "photo.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	FcPhotoLimits limits = {FC_PHOTO_DEFAULT_MAX_PIXELS, FC_PHOTO_DEFAULT_MAX_BYTES};
	FcPhotoInfo info;
	FcPhotoError error;
	const char *problems[8];
	int			nproblems,
				runs = 1,
				argi = 1;
	unsigned char *data,
			   *out = NULL;
	size_t		len,
				outlen = 0;
	double	   *times;
	FILE	   *f;
	long		size;

	if (argc > 2 && strcmp(argv[1], "-n") == 0)
	{
		runs = atoi(argv[2]);
		argi = 3;
	}
	if (argi >= argc || runs < 1)
	{
		fprintf(stderr, "usage: fc_prepare [-n N] in [out.jpg]\n");
		return 2;
	}
	f = fopen(argv[argi], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
	{
		perror(argv[argi]);
		return 1;
	}
	rewind(f);
	len = (size_t) size;
	data = fc_mem_alloc(len ? len : 1);
	if (fread(data, 1, len, f) != len)
	{
		perror(argv[argi]);
		return 1;
	}
	fclose(f);

	if (!fc_photo_read_header(data, len, &info, &error))
		printf("header: %s%s%s\n", error.message, error.detail[0] ? ": " : "", error.detail);
	printf("format=%s width=%d height=%d orientation=%d bytes=%zu has_metadata=%s",
		   fc_photo_format_name(info.format), info.width, info.height, info.orientation,
		   info.bytes, info.has_metadata ? "yes" : "no");
	printf(" acceptable=%s\n", info.header_ok && fc_photo_acceptable(&info, problems, 8, &nproblems) ? "yes" : "no");

	times = fc_mem_alloc(sizeof(double) * runs);
	for (int i = 0; i < runs; i++)
	{
		double		t0 = now_ms();
		bool		ok;

		fc_mem_free(out);
		ok = fc_photo_prepare(data, len, &limits, NULL, &out, &outlen, &error);
		times[i] = now_ms() - t0;
		if (!ok)
		{
			printf("refused: %s%s%s\n", error.message, error.detail[0] ? ": " : "", error.detail);
			return 3;
		}
	}
	qsort(times, runs, sizeof(double), cmp_double);
	{
		FcPhotoInfo oinfo;

		fc_photo_read_header(out, outlen, &oinfo, &error);
		printf("prepared: %dx%d %zu bytes in %.1f ms (median of %d)\n",
			   oinfo.width, oinfo.height, outlen, times[runs / 2], runs);
	}
	if (argi + 1 < argc)
	{
		f = fopen(argv[argi + 1], "wb");
		if (f == NULL || fwrite(out, 1, outlen, f) != outlen || fclose(f) != 0)
		{
			perror(argv[argi + 1]);
			return 1;
		}
	}
	return 0;
}
