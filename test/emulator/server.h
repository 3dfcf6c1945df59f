/*
 * server.h
 *		Start the HTTP(S) server; the bound port is returned in *port.
 */
#ifndef SERVER_H
#define SERVER_H

struct MHD_Daemon;

extern struct MHD_Daemon *start_server(int *port);

#endif							/* SERVER_H */
