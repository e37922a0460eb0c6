/*  testnet.h - a listening socket on loopback for tests that play a
 *  server (the CLI's HTTP client against fake servers): on 127.0.0.1, on
 *  a port the kernel picks free, so tests running at once never collide.
 */
#ifndef TESTNET_H
#define TESTNET_H

/*  A TCP socket listening on 127.0.0.1 with the given backlog; its port
 *  is written to *port. Returns the socket, or -1 (errno tells why). */
int testnet_listen(int backlog, int *port);

#endif
