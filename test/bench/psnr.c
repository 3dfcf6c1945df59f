/*
 * psnr.c
 *		PSNR of two JPEGs of the same size, over RGB (8-bit): how far a change
 *		of the preparation moved its output.  psnr a.jpg b.jpg
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

static unsigned char *
load(const char *path, int *w, int *h)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	FILE	   *f = fopen(path, "rb");
	unsigned char *rgb;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&cinfo);
	jpeg_stdio_src(&cinfo, f);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = JCS_RGB;
	jpeg_start_decompress(&cinfo);
	*w = cinfo.output_width;
	*h = cinfo.output_height;
	rgb = malloc((size_t) *w * *h * 3);
	while (cinfo.output_scanline < cinfo.output_height)
	{
		JSAMPROW	row = rgb + (size_t) cinfo.output_scanline * *w * 3;

		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	fclose(f);
	return rgb;
}

int
main(int argc, char **argv)
{
	int			aw,
				ah,
				bw,
				bh;
	unsigned char *a,
			   *b;
	double		se = 0;
	size_t		n;

	if (argc != 3)
	{
		fprintf(stderr, "usage: psnr a.jpg b.jpg\n");
		return 2;
	}
	a = load(argv[1], &aw, &ah);
	b = load(argv[2], &bw, &bh);
	if (aw != bw || ah != bh)
	{
		fprintf(stderr, "sizes differ: %dx%d and %dx%d\n", aw, ah, bw, bh);
		return 1;
	}
	n = (size_t) aw * ah * 3;
	for (size_t i = 0; i < n; i++)
		se += (double) (a[i] - b[i]) * (a[i] - b[i]);
	if (se == 0)
		printf("inf\n");
	else
		printf("%.2f\n", 10 * log10(255.0 * 255.0 / (se / n)));
	free(a);
	free(b);
	return 0;
}
