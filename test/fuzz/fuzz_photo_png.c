/* fuzz_photo_png.c: the PNG header reader and decoder wrapper. */
#define FUZZ_MAGIC "\x89PNG\r\n\x1A\n"
#define FUZZ_MAGIC_LEN 8
#include "fuzz_photo.h"
