/*
 * photo.h
 *		Preparing a phone photo for the service: read its header within
 *		limits, decode it, turn it upright, scale it so the shorter side is
 *		720 px (the longer at most 1920), and encode a baseline JPEG at
 *		quality 90 with no metadata, at most FC_PHOTO_MAX_OUTPUT bytes.
 *
 * Pure C: no PostgreSQL header.  Memory comes from fcmem.h (palloc in the
 * server, the C library elsewhere) except the libraries' own, which each
 * decoder wrapper releases on every path; a job records what is live so
 * that fc_photo_job_cleanup() can release it after a non-local exit (an
 * ERROR raised by the allocator or by the interrupt callback's caller).
 * The same core links into the backend, the unit tests, the fuzzers and
 * test/bench.
 */
#ifndef PHOTO_H
#define PHOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Formats recognised by their magic bytes; only some can be decoded. */
typedef enum FcPhotoFormat
{
	FC_PHOTO_UNKNOWN = 0,
	FC_PHOTO_JPEG,
	FC_PHOTO_PNG,
	FC_PHOTO_WEBP,
	FC_PHOTO_HEIF,				/* HEIC, HEIF and AVIF: the ISO-BMFF family */
	FC_PHOTO_GIF,
	FC_PHOTO_BMP,
	FC_PHOTO_TIFF,
	FC_PHOTO_JPEG2000,
	FC_PHOTO_JPEGXL,
	FC_PHOTO_ICO,
	FC_PHOTO_PSD
} FcPhotoFormat;

/* What the service takes, and what we aim for. */
#define FC_PHOTO_MIN_WIDTH		640		/* after orientation: landscape min */
#define FC_PHOTO_MIN_HEIGHT		480
#define FC_PHOTO_MAX_LONG		1920	/* the service's 1920x1080, either way */
#define FC_PHOTO_MAX_SHORT		1080
#define FC_PHOTO_TARGET_SHORT	720		/* recommended shorter side */
#define FC_PHOTO_MAX_SIDE		16384	/* a side longer than this: refused */
#define FC_PHOTO_QUALITY		90
#define FC_PHOTO_MIN_QUALITY	50		/* the last step before giving up */
/* base64 of 750,000 bytes is 1,000,000: under "1 MB" whichever it means. */
#define FC_PHOTO_MAX_OUTPUT		750000

/* Limits from the settings (facecompare.max_image_pixels, max_image_bytes). */
typedef struct FcPhotoLimits
{
	int64_t		max_pixels;		/* width * height, from the header */
	int64_t		max_bytes;		/* input bytes */
} FcPhotoLimits;

#define FC_PHOTO_DEFAULT_MAX_PIXELS	50000000
#define FC_PHOTO_DEFAULT_MAX_BYTES	(30 * 1024 * 1024)

/* facecompare.prepare_images */
typedef enum FcPrepareMode
{
	FC_PREPARE_OFF = 0,
	FC_PREPARE_WHEN_NEEDED,
	FC_PREPARE_ALWAYS
} FcPrepareMode;

/* Which rule an image broke (the SQL error names it). */
typedef enum FcPhotoRule
{
	FC_RULE_NONE = 0,
	FC_RULE_EMPTY,				/* no bytes */
	FC_RULE_INPUT_BYTES,		/* more bytes than max_bytes */
	FC_RULE_UNSUPPORTED,		/* a format we do not read (GIF, ...) */
	FC_RULE_NOT_BUILT,			/* a format this build lacks (HEIC, WebP) */
	FC_RULE_SIDE,				/* a side over FC_PHOTO_MAX_SIDE */
	FC_RULE_PIXELS,				/* more pixels than max_pixels */
	FC_RULE_UNDECODABLE,		/* truncated, corrupt, a decoder warning */
	FC_RULE_TOO_SMALL,			/* under 640x480 after orientation */
	FC_RULE_OUTPUT_BYTES,		/* over FC_PHOTO_MAX_OUTPUT even at min quality */
	FC_RULE_INTERRUPTED,		/* the interrupt callback asked to stop */
	FC_RULE_OUT_OF_MEMORY		/* a library could not allocate */
} FcPhotoRule;

/*
 * The outcome of a check or a preparation: the rule, a message naming it
 * with the figures, and the decoder's reason when it has one.
 */
typedef struct FcPhotoError
{
	FcPhotoRule rule;
	char		message[256];
	char		detail[256];
} FcPhotoError;

/* What the header (and the EXIF block) says, without decoding pixels. */
typedef struct FcPhotoInfo
{
	FcPhotoFormat format;
	int			width;			/* as stored, before orientation */
	int			height;
	int			orientation;	/* EXIF 1-8 (HEIF: the container's, mapped) */
	size_t		bytes;
	bool		has_metadata;	/* EXIF, XMP, ICC, comments, text chunks */
	bool		header_ok;		/* the header could be read */
} FcPhotoInfo;

/* Width and height once turned upright. */
extern void fc_photo_upright_size(const FcPhotoInfo *info, int *width, int *height);

/*
 * Called between rows/steps of a decode; returns true to stop it (the job
 * ends with FC_RULE_INTERRUPTED).  NULL: never stop.
 */
typedef bool (*FcPhotoInterrupt) (void *arg);

/* The live library state of one preparation, for cleanup on a non-local exit. */
typedef struct FcPhotoJob
{
	FcPhotoInterrupt interrupt;
	void	   *interrupt_arg;
	void	   *live[4];		/* library handles; NULL when released */
	void		(*release[4]) (void *);
} FcPhotoJob;

extern void fc_photo_job_init(FcPhotoJob *job, FcPhotoInterrupt interrupt, void *arg);
/* Release whatever a decode left live (idempotent). */
extern void fc_photo_job_cleanup(FcPhotoJob *job);

/* Recognise a format by its leading bytes; its name ("JPEG", "HEIC", ...). */
extern FcPhotoFormat fc_photo_format(const unsigned char *data, size_t len);
extern const char *fc_photo_format_name(FcPhotoFormat format);
/* Can this build decode it? */
extern bool fc_photo_format_built(FcPhotoFormat format);
/* "HEIC, WebP" or "" : the formats this build cannot decode. */
extern const char *fc_photo_formats_missing(void);

/*
 * Read the header: format, size, orientation, metadata.  Reads no pixel.
 * False with *error when the format is unknown/unsupported or the header is
 * unreadable (info->format is still set when known).
 */
extern bool fc_photo_read_header(const unsigned char *data, size_t len,
								 FcPhotoInfo *info, FcPhotoError *error);

/*
 * The rules judged on the header alone (bytes, format, sides, pixels, and
 * the minimum size after orientation): what enqueue() and the trigger
 * apply.  True when none is broken.
 */
extern bool fc_photo_check_header(const unsigned char *data, size_t len,
								  const FcPhotoLimits *limits,
								  FcPhotoInfo *info, FcPhotoError *error);

/*
 * Would the service take the picture as it is?  JPEG or PNG, orientation 1,
 * within 640x480..1920x1080 either way, base64 within 1 MB.  With problems
 * non-NULL, each reason in words is appended (up to max_problems, each a
 * static string), and *nproblems counts them.
 */
extern bool fc_photo_acceptable(const FcPhotoInfo *info,
								const char **problems, int max_problems, int *nproblems);

/*
 * Does this mode prepare this picture?  off: never; always: yes;
 * when_needed: when it is not acceptable as it is.
 */
extern bool fc_photo_needs_preparing(const FcPhotoInfo *info, FcPrepareMode mode);

/*
 * Decode, orient, scale and encode: *out (fc_mem_alloc'd) holds a baseline
 * JPEG of at most FC_PHOTO_MAX_OUTPUT bytes with no metadata.  Applies
 * fc_photo_check_header first.  False with *error on any broken rule.
 * job may be NULL (no interrupt, nothing to clean after a longjmp).
 */
extern bool fc_photo_prepare(const unsigned char *data, size_t len,
							 const FcPhotoLimits *limits, FcPhotoJob *job,
							 unsigned char **out, size_t *outlen,
							 FcPhotoError *error);

/*
 * Decode the picture to check it can be, discarding the pixels: JPEG at
 * 1/8 scale (the entropy coding is still read whole), WebP scaled to a
 * thumbnail, PNG row by row.  For a picture sent as it is, so a truncated
 * or corrupt one is refused before it is paid for.  Applies
 * fc_photo_check_header first.
 */
extern bool fc_photo_verify(const unsigned char *data, size_t len,
							const FcPhotoLimits *limits, FcPhotoJob *job,
							FcPhotoError *error);

/*
 * The EXIF orientation (1-8) in a TIFF-structured EXIF block (the APP1
 * payload after "Exif\0\0", or WebP's EXIF chunk): 1 when absent or
 * unreadable.  Bounded: reads only within len, follows no offset loop.
 */
extern int	fc_exif_orientation(const unsigned char *tiff, size_t len);

#endif							/* PHOTO_H */
