/*
 * server.h
 *		Start the HTTP(S) server (the bound port is returned in *port), and
 *		stop it.
 */
#ifndef SERVER_H
#define SERVER_H

struct MHD_Daemon;

extern struct MHD_Daemon *start_server(int *port);
extern void stop_server(struct MHD_Daemon *daemon);

#endif							/* SERVER_H */
