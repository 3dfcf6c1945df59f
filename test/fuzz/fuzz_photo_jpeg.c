/* fuzz_photo_jpeg.c: the JPEG header reader and decoder wrapper. */
#define FUZZ_MAGIC "\xFF\xD8\xFF"
#define FUZZ_MAGIC_LEN 3
#include "fuzz_photo.h"
