/*
 * rows.h
 *		compare_rows(): the pairs of a whole query's rows, in bounded memory.
 */
#ifndef ROWS_H
#define ROWS_H

/*
 * Ensure no comparison starts while compare_rows() is reading its query's
 * next rows: the query's own compare() would share the engine's transfers
 * with the ones compare_rows() has in flight.  Called by fc_batch_create.
 */
extern void fc_rows_check_not_reading(void);

#endif							/* ROWS_H */
