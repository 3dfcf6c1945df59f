/*
 * waitevent.c
 *		Named wait events, registered on first use.
 *
 * A custom wait event is registered by name in shared memory, so every
 * backend asking for the same name gets the same id; each backend keeps the
 * ids it has looked up.
 */
#include "postgres.h"

#include "utils/wait_event.h"

#include "pgcompat.h"
#include "waitevent.h"

static const char *const wait_names[FC_WAIT_COUNT] = {
	[FC_WAIT_ANSWER] = "FacecompareAnswer",
	[FC_WAIT_QPS_SLOT] = "FacecompareQpsSlot",
	[FC_WAIT_RETRY_BACKOFF] = "FacecompareRetryBackoff",
};

static uint32 wait_ids[FC_WAIT_COUNT];

uint32
fc_wait_event(FcWait what)
{
	Assert(what >= 0 && what < FC_WAIT_COUNT);
	if (wait_ids[what] == 0)
		wait_ids[what] = fc_wait_event_new(wait_names[what]);
	return wait_ids[what];
}
