/*
 * outage.c
 *		An outage on demand: PUT /emulator/outage?code=CODE makes the
 *		emulator answer CODE (any code of the table) to every correctly
 *		signed call until DELETE /emulator/outage, as the service does when
 *		an account is in arrears or a key is revoked.  GET says which.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "emulator.h"

static pthread_mutex_t outage_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *outage_code = NULL;	/* an entry of the code table, or NULL */

bool
outage_answered(Answer *answer)
{
	const char *code;

	pthread_mutex_lock(&outage_lock);
	code = outage_code;
	pthread_mutex_unlock(&outage_lock);
	if (code == NULL)
		return false;
	answer_code(answer, code);
	return true;
}

int
outage_control(const char *method, const char *code, char *text, size_t len)
{
	const FcServiceCode *entry = NULL;
	int			status = 200;

	pthread_mutex_lock(&outage_lock);
	if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)
	{
		if (code == NULL || (entry = fc_service_code_exact(code)) == NULL)
			status = 400;
		else
			outage_code = entry->code;
	}
	else if (strcmp(method, "DELETE") == 0)
		outage_code = NULL;
	else if (strcmp(method, "GET") != 0)
		status = 405;
	if (status == 400)
		snprintf(text, len, "code must be one of the service's codes\n");
	else if (status == 405)
		snprintf(text, len, "GET, PUT or DELETE\n");
	else
		snprintf(text, len, "outage %s\n", outage_code ? outage_code : "none");
	pthread_mutex_unlock(&outage_lock);
	return status;
}
