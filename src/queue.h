/*
 * queue.h
 *		The enqueuing side of facecompare.request: enqueue(), the
 *		verify_upload trigger, and waking the worker when work commits.
 */
#ifndef QUEUE_H
#define QUEUE_H

/* Install the hook that wakes the worker after COMMIT PREPARED. */
extern void fc_queue_init(void);

#endif							/* QUEUE_H */
