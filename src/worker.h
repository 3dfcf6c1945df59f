/*
 * worker.h
 *		The queue's background worker: runs the requests of facecompare.request
 *		that enqueue() and the verify_upload trigger leave there.
 */
#ifndef WORKER_H
#define WORKER_H

#include "fmgr.h"

/*
 * Register the worker while preloading with facecompare.worker_database set;
 * called from _PG_init after fc_settings_init.
 */
extern void fc_worker_init(void);

/* The worker's entry point, named in its registration. */
extern PGDLLEXPORT void facecompare_worker_main(Datum arg);

#endif							/* WORKER_H */
