/*
 * pause.c
 *		Waits that end early when the emulator is stopping.  --latency-ms,
 *		?delay_ms= and the stalled answers sleep here, so SIGTERM stops the
 *		emulator at once instead of after the longest pending sleep.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "emulator.h"

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond;
static bool stopping;
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

/* The waits measure time on the monotonic clock: a clock jump cannot stretch them. */
static void
init_cond(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&stop_cond, &attr);
	pthread_condattr_destroy(&attr);
}

bool
pause_ms(long ms)
{
	struct timespec until;
	bool		interrupted;

	pthread_once(&stop_once, init_cond);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&stop_lock);
	while (!stopping && pthread_cond_timedwait(&stop_cond, &stop_lock, &until) != ETIMEDOUT)
		;
	interrupted = stopping;
	pthread_mutex_unlock(&stop_lock);
	return !interrupted;
}

void
stop_pauses(void)
{
	pthread_once(&stop_once, init_cond);
	pthread_mutex_lock(&stop_lock);
	stopping = true;
	pthread_cond_broadcast(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
}
