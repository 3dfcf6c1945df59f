/*
 * waitevent.h
 *		The wait events a backend reports while facecompare waits, so that
 *		pg_stat_activity says why a session is slow.
 */
#ifndef WAITEVENT_H
#define WAITEVENT_H

typedef enum FcWait
{
	FC_WAIT_ANSWER,				/* the service's answer (or connecting to it) */
	FC_WAIT_QPS_SLOT,			/* a facecompare.max_qps send slot */
	FC_WAIT_RETRY_BACKOFF,		/* the pause before a retry */
	FC_WAIT_COUNT
} FcWait;

/*
 * The wait_event_info for a wait: named (wait_event_type "Extension",
 * wait_event "FacecompareAnswer" ...) on PostgreSQL 17 and later, the
 * generic "Extension" on older servers.
 */
extern uint32 fc_wait_event(FcWait what);

#endif							/* WAITEVENT_H */
