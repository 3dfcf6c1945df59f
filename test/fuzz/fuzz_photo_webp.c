/* fuzz_photo_webp.c: the WebP header reader and decoder wrapper. */
#define FUZZ_MAGIC "RIFF"
#define FUZZ_MAGIC_LEN 4
#include "fuzz_photo.h"
