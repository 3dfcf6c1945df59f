/*
 * codes.h
 *		One table of the answers the service and its gateway can give: HTTP
 *		status, what it means, the advice to show, the SQLSTATE we raise and
 *		whether trying again can help.  Pure C: the emulator answers from the
 *		same table the extension maps errors with.
 */
#ifndef CODES_H
#define CODES_H

#include <stdbool.h>

typedef struct FcServiceCode
{
	const char *code;			/* the service's Code, e.g. "NoFaceDetected" */
	int			http_status;	/* status the service answers it with */
	const char *message;		/* what it means (the API page's words) */
	const char *hint;			/* the page's advice, or NULL */
	const char *sqlstate;		/* five-character SQLSTATE we raise */
	bool		retryable;		/* may a later, identical request succeed? */
} FcServiceCode;

/* Codes that mean success in an HTTP 200 answer ("Success"; the SDK says "200"). */
extern bool fc_code_is_success(const char *code);

/*
 * The table entry for code.  An undocumented code gets the entry of its
 * family (Throttling*, Forbidden.*, InvalidAccessKeyId.*, Missing*, Invalid*)
 * or, failing that, a generic one chosen by the HTTP status; never NULL.
 */
extern const FcServiceCode *fc_service_code(const char *code, int http_status);

/* The exact entry for code, or NULL when the table does not list it. */
extern const FcServiceCode *fc_service_code_exact(const char *code);

/* The whole table, for the emulator and tests. */
extern const FcServiceCode fc_service_codes[];
extern const int fc_service_code_count;

#endif							/* CODES_H */
