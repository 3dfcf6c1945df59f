/*
 * photo_pg.h
 *		The preparation core inside the server: the photo rules for one side
 *		of a comparison, its preparation, and the SQL functions.
 */
#ifndef PHOTO_PG_H
#define PHOTO_PG_H

#include "fcerror.h"
#include "request.h"

/*
 * The rules judged on the header (format, input bytes, sides, pixels, the
 * minimum size upright): what compare(), enqueue() and the trigger apply
 * when facecompare.prepare_images is not off.  Reads only the header.
 */
extern bool fc_photo_check_arg(const FcImageArg *image, FcError *error);

/*
 * Prepare the picture if its mode says so: image->bytes becomes the
 * prepared JPEG (palloc'd in the current context).  False with *error on a
 * broken rule (22023); cancel and die are raised.
 */
extern bool fc_photo_prepare_arg(FcImageArg *image, FcError *error);

#endif							/* PHOTO_PG_H */
