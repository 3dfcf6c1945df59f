/* fuzz_photo_heif.c: the HEIC header reader and decoder wrapper. */
#define FUZZ_MAGIC "\0\0\0\x18" "ftypheic"
#define FUZZ_MAGIC_LEN 12
#include "fuzz_photo.h"
