/*
 * photo_int.h
 *		Inside the preparation core: the pixel buffer and the per-format
 *		header readers and decoder wrappers photo.c dispatches to.
 */
#ifndef PHOTO_INT_H
#define PHOTO_INT_H

#include "photo.h"

/* Decoded pixels: 8-bit RGB, rows packed (stride width * 3), fc_mem_alloc'd. */
typedef struct FcPixels
{
	int			width;
	int			height;
	unsigned char *rgb;
} FcPixels;

/* Set *error; returns false (printf-style message). */
extern bool fc_photo_fail(FcPhotoError *error, FcPhotoRule rule, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void fc_photo_detail(FcPhotoError *error, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* RGBA flattened on white into RGB, in place; the buffer shrunk to fit. */
extern unsigned char *fc_photo_flatten_rgba(unsigned char *rgba, size_t npixels);

/* Keep a library handle in the job until fc_photo_job_release; its slot. */
extern int	fc_photo_job_hold(FcPhotoJob *job, void *handle, void (*release) (void *));
extern void fc_photo_job_release(FcPhotoJob *job, int slot);
extern bool fc_photo_job_interrupted(FcPhotoJob *job);
/* Release a handle: through the job when it holds it (slot >= 0), else directly. */
extern void fc_photo_job_drop(FcPhotoJob *job, int slot, void *handle, void (*release) (void *));

/* A decoder's failure: interrupted, or undecodable with the library's reason. */
extern bool fc_photo_decode_failed(FcPhotoError *error, bool interrupted, const char *format,
								   const char *library, const char *reason);

/*
 * Header readers: fill info (size, orientation, metadata); false with
 * *error when the header is unreadable.  Pure for JPEG, PNG and WebP.
 */
extern bool fc_photo_header_jpeg(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error);
extern bool fc_photo_header_png(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error);
extern bool fc_photo_header_webp(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error);
extern bool fc_photo_header_heif(const unsigned char *d, size_t len, FcPhotoInfo *info, FcPhotoError *error);

/*
 * Decoders: the image as stored (not yet oriented), at least want_w x
 * want_h when the decoder can scale (WebP's scaled decode), else full
 * size: their libraries give a whole frame.  HEIF's decoder applies the container's
 * rotation itself (info says orientation 1 for it).
 */
extern bool fc_photo_decode_png(const unsigned char *d, size_t len, const FcPhotoLimits *limits,
								FcPhotoJob *job, FcPixels *px, FcPhotoError *error);
extern bool fc_photo_decode_webp(const unsigned char *d, size_t len, int want_w, int want_h,
								 FcPhotoJob *job, FcPixels *px, FcPhotoError *error);
extern bool fc_photo_decode_heif(const unsigned char *d, size_t len, const FcPhotoLimits *limits,
								 FcPhotoJob *job, FcPixels *px, FcPhotoError *error);

/*
 * The streaming scale-and-turn stage: rows of the picture as stored go in
 * one at a time, top to bottom; each output row, once the few input rows
 * its vertical filter needs are in, is written straight at its upright
 * place in the one output frame.  Separable Mitchell filter (B = C = 1/3),
 * an axis whose size does not change is copied; edges clamped.  All memory
 * from fc_mem_alloc, released by fc_scaler_free (idempotent).
 */
typedef struct FcScaler
{
	int			dw,				/* target size as stored (before the turn) */
				dh,
				orientation;
	int			sw,				/* input size, given by fc_scaler_start */
				sh;
	int		   *hlo,			/* per output column: first input column, */
			   *hn;				/* and how many */
	float	   *hw;				/* their weights, htaps per column */
	int			htaps;
	int		   *vlo,
			   *vn;
	float	   *vw;
	int			vtaps;
	float	   *ring;			/* vtaps horizontally scaled rows, dw * 3 each */
	float	   *acc;			/* one output row being summed */
	int			rows_in,
				rows_out;
	FcPixels	out;			/* the upright frame */
} FcScaler;

/* Aim at dw x dh as stored, then turned by the EXIF orientation. */
extern void fc_scaler_init(FcScaler *s, int dw, int dh, int orientation);
/* The input's size (as stored, as decoded): allocates the filters and frame. */
extern void fc_scaler_start(FcScaler *s, int sw, int sh);
/* The next input row: sw RGB pixels. */
extern void fc_scaler_row(FcScaler *s, const unsigned char *rgb);
/* After the last row: the upright frame moves to *px (the scaler keeps nothing). */
extern void fc_scaler_finish(FcScaler *s, FcPixels *px);
extern void fc_scaler_free(FcScaler *s);
/* A whole decoded frame as the input: start, then each of its rows. */
extern void fc_scaler_frame(FcScaler *s, const FcPixels *px);

/*
 * A whole decoded frame through the same stage: scale to width x height
 * (as stored), then turn by the EXIF orientation; px is replaced.
 */
extern bool fc_photo_resize_orient(FcPixels *px, int width, int height, int orientation,
								   FcPhotoError *error);

/*
 * JPEG streamed: scanlines at the DCT scale (the smallest giving at least
 * the scaler's target) go one by one into scaler, which then holds the
 * upright frame; scaler NULL: the scanlines are decoded and dropped (verify).
 */
extern bool fc_photo_stream_jpeg(const unsigned char *d, size_t len, FcScaler *scaler,
								 FcPhotoJob *job, FcPhotoError *error);

/* Baseline JPEG at quality, no metadata; *out fc_mem_alloc'd. */
extern bool fc_photo_encode_jpeg(const FcPixels *px, int quality, FcPhotoJob *job,
								 unsigned char **out, size_t *outlen, FcPhotoError *error);

#endif							/* PHOTO_INT_H */
