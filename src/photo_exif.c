/*
 * photo_exif.c
 *		The EXIF orientation tag, read from a TIFF-structured block.
 *
 * Only IFD0 is read, where the Orientation tag (0x0112) lives: no offset is
 * followed except IFD0's own, every read is bounds-checked against len, and
 * the entry count is capped, so hostile EXIF costs at most a few hundred
 * comparisons.  Anything unreadable means "no orientation" (1), as phones'
 * viewers treat it.
 */
#include "photo.h"

#define EXIF_TAG_ORIENTATION	0x0112
#define EXIF_TYPE_SHORT			3
/* IFD0 of a phone photo has 10-20 entries; more is junk. */
#define EXIF_MAX_ENTRIES		512

static unsigned
read16(const unsigned char *p, bool le)
{
	return le ? (unsigned) p[0] | (unsigned) p[1] << 8 : (unsigned) p[0] << 8 | (unsigned) p[1];
}

static uint32_t
read32(const unsigned char *p, bool le)
{
	return le ? (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24
		: (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

int
fc_exif_orientation(const unsigned char *tiff, size_t len)
{
	bool		le;
	uint32_t	ifd;
	unsigned	count;

	if (tiff == NULL || len < 8)
		return 1;
	if (tiff[0] == 'I' && tiff[1] == 'I')
		le = true;
	else if (tiff[0] == 'M' && tiff[1] == 'M')
		le = false;
	else
		return 1;
	if (read16(tiff + 2, le) != 42)
		return 1;
	ifd = read32(tiff + 4, le);
	if (ifd < 8 || ifd > len - 2)
		return 1;
	count = read16(tiff + ifd, le);
	if (count > EXIF_MAX_ENTRIES)
		return 1;
	for (unsigned i = 0; i < count; i++)
	{
		size_t		at = (size_t) ifd + 2 + (size_t) i * 12;
		unsigned	value;

		if (at + 12 > len)
			return 1;
		if (read16(tiff + at, le) != EXIF_TAG_ORIENTATION)
			continue;
		/* SHORT, count 1: the value sits in the first two bytes of the field. */
		if (read16(tiff + at + 2, le) != EXIF_TYPE_SHORT || read32(tiff + at + 4, le) != 1)
			return 1;
		value = read16(tiff + at + 8, le);
		return value >= 1 && value <= 8 ? (int) value : 1;
	}
	return 1;
}
