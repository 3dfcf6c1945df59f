/*
 * faults.c
 *		Misbehaviour on demand, for testing clients: a MerchantBizId of
 *		EMUFault<Kind> makes the emulator answer badly in that way, and
 *		EMUFlaky<N>... answers ServiceUnavailable to the first N requests with
 *		that id, then answers normally (so retries can be seen to work).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"

typedef struct FaultKind
{
	const char *name;
	int			status;
	const char *content_type;
	const char *body;			/* "%s" is replaced by a RequestId-like id */
	Fault		fault;
} FaultKind;

static const FaultKind kinds[] = {
	{"NotJson", 200, "text/html", "<html><body>Service busy</body></html>", FAULT_NONE},
	{"Html502", 502, "text/html", "<html><body>502 Bad Gateway</body></html>", FAULT_NONE},
	{"Truncated", 200, NULL, "{\"RequestId\":\"%s\",\"Code\":\"Success\",\"Message\":\"success\",\"Result\":{\"TransactionId\":\"0", FAULT_NONE},
	{"NoResult", 200, NULL, "{\"RequestId\":\"%s\",\"Code\":\"Success\",\"Message\":\"success\"}", FAULT_NONE},
	{"WrongShape", 200, NULL, "{\"RequestId\":\"%s\",\"Code\":\"Success\",\"Message\":\"success\",\"Result\":{\"TransactionId\":\"t\",\"Passed\":\"maybe\",\"FaceComparisonScore\":50}}", FAULT_NONE},
	{"ScoreOutOfRange", 200, NULL, "{\"RequestId\":\"%s\",\"Code\":\"Success\",\"Message\":\"success\",\"Result\":{\"TransactionId\":\"t\",\"Passed\":\"Y\",\"FaceComparisonScore\":150}}", FAULT_NONE},
	{"NoCode", 200, NULL, "{\"RequestId\":\"%s\"}", FAULT_NONE},
	{"Stall", 200, NULL, "{\"RequestId\":\"%s\",\"Code\":\"Success\",\"Message\":\"success\",\"Result\":{\"TransactionId\":\"0123456789abcdef0123456789abcdef\",\"Passed\":\"Y\",\"FaceComparisonScore\":99}}", FAULT_STALL},
	{"Huge", 200, NULL, "", FAULT_HUGE},
	{"Redirect", 302, NULL, "", FAULT_REDIRECT},
};

/* How many requests each EMUFlaky id has had. */
#define MAX_FLAKY 1024
static struct
{
	char		id[33];
	int			seen;
}			flaky[MAX_FLAKY];
static int	nflaky;
static pthread_mutex_t flaky_lock = PTHREAD_MUTEX_INITIALIZER;

/* Count a request for id; returns how many came before it. */
static int
flaky_count(const char *id)
{
	int			before = 0,
				i;

	pthread_mutex_lock(&flaky_lock);
	for (i = 0; i < nflaky; i++)
		if (strcmp(flaky[i].id, id) == 0)
			break;
	if (i == nflaky && nflaky < MAX_FLAKY)
	{
		snprintf(flaky[i].id, sizeof(flaky[i].id), "%s", id);
		nflaky++;
	}
	if (i < nflaky)
		before = flaky[i].seen++;
	pthread_mutex_unlock(&flaky_lock);
	return before;
}

bool
answer_fault(const char *id, Answer *answer)
{
	if (strncmp(id, "EMUFlaky", 8) == 0 && id[8] >= '1' && id[8] <= '9')
	{
		if (flaky_count(id) < id[8] - '0')
		{
			answer_gateway_error(answer, "ServiceUnavailable",
								 "The request has failed due to a temporary failure of the server (EMUFlaky).");
			return true;
		}
		return false;
	}
	if (strncmp(id, "EMUFault", 8) != 0)
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
	{
		const FaultKind *k = &kinds[i];
		char		request_id[33];
		size_t		len;

		if (strncmp(id + 8, k->name, strlen(k->name)) != 0)
			continue;
		random_hex(request_id, 16);
		len = strlen(k->body) + sizeof(request_id) + 1;
		answer->body = malloc(len);
		snprintf(answer->body, len, k->body, request_id);
		answer->status = k->status;
		answer->content_type = k->content_type;
		answer->fault = k->fault;
		answer->code = k->name;
		return true;
	}
	return false;
}
