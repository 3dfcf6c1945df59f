/*
 * redact.h
 *		Keep the values of the secret settings out of the server log.
 */
#ifndef REDACT_H
#define REDACT_H

/* Install the log hook; called once from _PG_init. */
extern void fc_redact_init(void);

#endif							/* REDACT_H */
