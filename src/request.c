/*
 * request.c
 *		From SQL arguments to a signed FaceCompare HTTP request.
 *
 * Every rule the service would enforce on its own, and that we can check
 * locally, is checked here before any network traffic, so a bad row fails
 * fast with the rule it broke instead of costing a round trip and a quota.
 *
 * Our errors carry errhidestmt: the statement that failed may hold image
 * bytes (a bytea literal) or signed URLs, which must not reach the server log.
 */
#include "postgres.h"

#include <time.h>

#include "access/detoast.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "formenc.h"
#include "image.h"
#include "pgcompat.h"
#include "photo.h"
#include "photo_pg.h"
#include "request.h"
#include "sign.h"
#include "strbuf.h"

#define API_ACTION		"FaceCompare"
#define API_VERSION		"2022-08-09"
#define CONTENT_TYPE	"application/x-www-form-urlencoded"
/* FC_VERSION: the Makefile passes facecompare.control's default_version. */
#define USER_AGENT		"facecompare/" FC_VERSION " (PostgreSQL extension)"

/* Hex of len random bytes from the strong source; out holds 2 * len + 1. */
static void
random_hex(char *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char bytes[32];

	Assert(len <= sizeof(bytes));
	if (!pg_strong_random(bytes, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

char *
fc_new_merchant_biz_id(void)
{
	char	   *id = palloc(FC_MERCHANT_BIZ_ID_MAX + 1);

	random_hex(id, FC_MERCHANT_BIZ_ID_MAX / 2);
	return id;
}

/*
 * Enough of a picture's head to tell its format (image.c reads 8 bytes), or,
 * when it may be prepared, to read its header: a phone's EXIF block is at
 * most 64 kB; a header further in is read whole (photo_pg.c).
 */
#define IMAGE_HEAD_BYTES 16
#define PHOTO_HEAD_BYTES (256 * 1024)

void
fc_image_from_datum(FcImageArg *image, const char *side, bool is_url,
					Datum value, bool isnull, bool head_only)
{
	memset(image, 0, sizeof(FcImageArg));
	image->side = side;
	image->is_url = is_url;
	image->prepare = fc_prepare_images;
	if (isnull)
		image->missing = true;
	else if (head_only)
	{
		/* A photo stored out of line is not read whole (nor a huge one at all) to be judged. */
		image->len = toast_raw_datum_size(value) - VARHDRSZ;
		if (is_url)
			image->url = image->len > FC_MAX_URL_BYTES ? NULL : TextDatumGetCString(value);
		else
		{
			bytea	   *head = DatumGetByteaPSlice(value, 0, image->prepare == FC_PREPARE_OFF ? IMAGE_HEAD_BYTES : PHOTO_HEAD_BYTES);

			image->bytes = VARDATA_ANY(head);
			image->avail = VARSIZE_ANY_EXHDR(head);
			image->value = value;
		}
	}
	else if (is_url)
		image->url = TextDatumGetCString(value);
	else
	{
		bytea	   *bytes = DatumGetByteaPP(value);

		image->bytes = VARDATA_ANY(bytes);
		image->len = image->avail = VARSIZE_ANY_EXHDR(bytes);
	}
}

/* Is the id 1 to 32 ASCII letters or digits, as the API requires? */
bool
fc_check_merchant_biz_id(const char *id, FcError *error)
{
	size_t		len = strlen(id);

	if (len == 0 || len > FC_MERCHANT_BIZ_ID_MAX)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
				 "merchant_biz_id must be 1 to %d ASCII letters or digits", FC_MERCHANT_BIZ_ID_MAX);
		fc_error_detail(error, "The value given has %zu characters.", len);
		fc_error_hint(error, "Pass NULL to have a unique id generated.");
		return false;
	}
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
		{
			fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
					 "merchant_biz_id must be 1 to %d ASCII letters or digits", FC_MERCHANT_BIZ_ID_MAX);
			fc_error_detail(error, "Character %d is not an ASCII letter or digit.",
							pg_mbstrlen_with_len(id, (int) i) + 1);
			fc_error_hint(error, "Pass NULL to have a unique id generated.");
			return false;
		}
	}
	return true;
}

/* Is a URL argument an http(s) URL the service could download? */
static bool
check_image_url(const FcImageArg *image, FcError *error)
{
	const char *url = image->url;
	size_t		len = url ? strlen(url) : image->len;

	if (url == NULL || len > FC_MAX_URL_BYTES)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
				 "%s image URL is too long: %zu bytes", image->side, len);
		fc_error_detail(error, "An image URL may have at most %d bytes.", FC_MAX_URL_BYTES);
		return false;
	}
	if (url[0] == '\0')
		return fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s image URL is empty", image->side);
	if (pg_strncasecmp(url, "https://", 8) != 0 && pg_strncasecmp(url, "http://", 7) != 0)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
				 "%s image URL must use http or https", image->side);
		fc_error_detail(error, "The service downloads the picture from a public http:// or https:// URL.");
		if (url[0] == '\\' && url[1] == 'x')
			fc_error_hint(error, "The value looks like bytea text; an untyped literal is taken as a URL, so cast it: '\\x...'::bytea.");
		return false;
	}
	for (const char *p = url; *p; p++)
	{
		if ((unsigned char) *p < 0x20 || *p == 0x7F)
			return fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
							"%s image URL contains a control character", image->side);
	}
	return true;
}

/* Does the start of the data look like the base64 text of a JPEG or PNG? */
static bool
looks_base64_encoded(const char *bytes, size_t len)
{
	return (len >= 4 && memcmp(bytes, "/9j/", 4) == 0) ||
		(len >= 6 && memcmp(bytes, "iVBORw", 6) == 0);
}

/* Is an image argument a JPEG or PNG within the transfer limit? */
static bool
check_image_bytes(const FcImageArg *image, FcError *error)
{
	size_t		encoded;

	if (image->len == 0)
		return fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s image is empty", image->side);
	if (fc_image_format((const unsigned char *) image->bytes, image->len) == FC_IMAGE_UNKNOWN)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
				 "%s image is neither JPEG nor PNG", image->side);
		fc_error_detail(error, "The service accepts JPG, JPEG and PNG pictures; the first bytes of this one match neither format.");
		if (looks_base64_encoded(image->bytes, image->len))
			fc_error_hint(error, "The bytes look base64-encoded: pass decode(value, 'base64').");
		return false;
	}
	encoded = fc_base64_length(image->len);
	if (encoded > FC_MAX_ENCODED_PICTURE)
	{
		fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE,
				 "%s image is too large: %zu bytes, %zu once base64-encoded",
				 image->side, image->len, encoded);
		fc_error_detail(error, "The service takes at most %d bytes of base64 per picture, so an image of at most %d bytes.",
						FC_MAX_ENCODED_PICTURE, FC_MAX_PICTURE_BYTES);
		fc_error_hint(error, "Compress or downscale the image (50 to 100 kB is recommended), or pass its URL.");
		return false;
	}
	return true;
}

bool
fc_check_image_arg(const FcImageArg *image, FcError *error)
{
	if (image->is_url)
		return check_image_url(image, error);
	/* With preparation on, the photo rules replace "JPEG or PNG within 1 MB". */
	if (image->prepare != FC_PREPARE_OFF && !image->prepared)
	{
		if (fc_photo_check_arg(image, error))
			return true;
		if (fc_photo_format((const unsigned char *) image->bytes, image->avail) == FC_PHOTO_UNKNOWN &&
			looks_base64_encoded(image->bytes, image->avail))
			fc_error_hint(error, "The bytes look base64-encoded: pass decode(value, 'base64').");
		return false;
	}
	return check_image_bytes(image, error);
}

bool
fc_check_comparison(const FcImageArg *source, const FcImageArg *target,
					const char *merchant_biz_id, FcError *error)
{
	const FcImageArg *sides[2] = {source, target};

	/* One order for every caller: a missing image first, then each side's rules, then the id. */
	for (int i = 0; i < 2; i++)
		if (sides[i]->missing)
		{
			fc_error(error, ERRCODE_INVALID_PARAMETER_VALUE, "%s image is NULL", sides[i]->side);
			if (sides[i]->column)
				fc_error_detail(error, "Column \"%s\" of the upload is NULL.", sides[i]->column);
			else
				fc_error_detail(error, "FaceCompare needs each image, as bytes (bytea) or as a URL (text).");
			fc_error_hint(error, "Skip rows that lack an image with WHERE ... IS NOT NULL on both image columns.");
			return false;
		}
	for (int i = 0; i < 2; i++)
		if (!fc_check_image_arg(sides[i], error))
			return false;
	return merchant_biz_id == NULL || fc_check_merchant_biz_id(merchant_biz_id, error);
}

/* Room for append_picture_field() to add this field, "&" included. */
static size_t
picture_field_room(const char *name, const FcImageArg *image)
{
	return image->is_url ? 0 : strlen(name) + 2 + fc_form_base64_room(image->len);
}

/* Append name=percent(base64(image)) to the form body. */
static void
append_picture_field(FcStrBuf *body, const char *name, const FcImageArg *image)
{
	if (body->len > 0)
		fc_strbuf_putc(body, '&');
	fc_strbuf_puts(body, name);
	fc_strbuf_putc(body, '=');
	fc_append_form_base64(body, (const unsigned char *) image->bytes, image->len);
}

/* The host[:port] of an http(s) base URL, as the Host header carries it. */
static char *
url_authority(const char *base_url)
{
	const char *start = strstr(base_url, "://");

	start = start ? start + 3 : base_url;
	return pnstrdup(start, strcspn(start, "/?#"));
}

void
fc_build_request(FcHttpRequest *req, const char *base_url,
				 const FcCredentials *creds, const char *merchant_biz_id,
				 const FcImageArg *source, const FcImageArg *target,
				 bool face_quality_check)
{
	FcParam		query[4];
	int			nquery = 0;
	FcParam		signed_headers[10];
	int			nsigned = 0;
	FcStrBuf	buf,
				body;
	char		body_hash[FC_HEX_SHA256_LEN + 1];
	char		signature[FC_HEX_SHA256_LEN + 1];
	char		nonce[33];
	char		date[32];
	char	   *host = url_authority(base_url);
	char	   *canonical_query;
	struct tm	tm;
	time_t		now = time(NULL);
	int			n = 0;

	/* Query: the id, the URLs and the flags.  Body: the pictures as base64. */
	query[nquery++] = (FcParam) {"MerchantBizId", merchant_biz_id};
	/* Left out when off, as the SDK leaves out an unset parameter. */
	if (face_quality_check)
		query[nquery++] = (FcParam) {"FaceQualityCheck", "Y"};
	if (source->is_url)
		query[nquery++] = (FcParam) {"SourceFacePictureUrl", source->url};
	if (target->is_url)
		query[nquery++] = (FcParam) {"TargetFacePictureUrl", target->url};
	fc_sort_params(query, nquery);
	fc_strbuf_init(&buf);
	fc_canonical_query(&buf, query, nquery);
	canonical_query = pstrdup(buf.data);

	fc_strbuf_init(&body);
	/* One allocation: growing the body would copy the first picture. */
	fc_strbuf_reserve(&body, picture_field_room("SourceFacePicture", source) +
					  picture_field_room("TargetFacePicture", target));
	if (!source->is_url)
		append_picture_field(&body, "SourceFacePicture", source);
	if (!target->is_url)
		append_picture_field(&body, "TargetFacePicture", target);
	fc_sha256_hex(body.data, body.len, body_hash);

	/* Each request is new to the gateway: fresh date and nonce. */
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	random_hex(nonce, 16);

	/* The signed headers, already in name order. */
	signed_headers[nsigned++] = (FcParam) {"content-type", CONTENT_TYPE};
	signed_headers[nsigned++] = (FcParam) {"host", host};
	if (creds->security_token)
		signed_headers[nsigned++] = (FcParam) {"x-acs-accesskey-id", creds->access_key_id};
	signed_headers[nsigned++] = (FcParam) {"x-acs-action", API_ACTION};
	signed_headers[nsigned++] = (FcParam) {"x-acs-content-sha256", body_hash};
	signed_headers[nsigned++] = (FcParam) {"x-acs-date", date};
	if (creds->security_token)
		signed_headers[nsigned++] = (FcParam) {"x-acs-security-token", creds->security_token};
	signed_headers[nsigned++] = (FcParam) {"x-acs-signature-nonce", nonce};
	signed_headers[nsigned++] = (FcParam) {"x-acs-version", API_VERSION};

	fc_strbuf_reset(&buf);
	{
		FcStrBuf	creq;

		fc_strbuf_init(&creq);
		fc_canonical_request(&creq, "POST", "/", canonical_query,
							 signed_headers, nsigned, body_hash);
		fc_string_to_sign(&buf, creq.data, creq.len);
		fc_strbuf_free(&creq);
	}
	fc_hmac_sha256_hex(creds->access_key_secret, strlen(creds->access_key_secret),
					   buf.data, buf.len, signature);

	req->headers = palloc(sizeof(char *) * (nsigned + 4));
	for (int i = 0; i < nsigned; i++)
		req->headers[n++] = psprintf("%s: %s", signed_headers[i].name, signed_headers[i].value);
	fc_strbuf_reset(&buf);
	fc_signed_header_list(&buf, signed_headers, nsigned);
	req->headers[n++] = psprintf("Authorization: " FC_SIGN_ALGORITHM " Credential=%s,SignedHeaders=%s,Signature=%s",
								 creds->access_key_id, buf.data, signature);
	req->headers[n++] = pstrdup("Accept: application/json");
	req->headers[n++] = pstrdup("User-Agent: " USER_AGENT);
	/* A 100-continue exchange would cost a round trip per call. */
	req->headers[n++] = pstrdup("Expect:");
	req->nheaders = n;
	req->timeout_ms = 0;

	req->base_url = pstrdup(base_url);
	req->url = psprintf("%s/?%s", base_url, canonical_query);
	req->body = body.data;
	req->body_len = body.len;
	fc_strbuf_free(&buf);
}
