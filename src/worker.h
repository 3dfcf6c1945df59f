/*
 * worker.h
 *		The queue's background worker: runs the requests of facecompare.request
 *		that enqueue() and the verify_upload trigger leave there.
 */
#ifndef WORKER_H
#define WORKER_H

#include "fmgr.h"

/* facecompare.worker_database: where the worker runs ("" when none). */
extern char *fc_worker_database;

/*
 * Define the worker's settings and, while preloading with
 * facecompare.worker_database set, register the worker.
 */
extern void fc_worker_init(void);

/* The worker's entry point, named in its registration. */
extern PGDLLEXPORT void facecompare_worker_main(Datum arg);

#endif							/* WORKER_H */
