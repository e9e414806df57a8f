/* Shared by the unit tests that talk HTTP (the registry client, push): a
   forked server on 127.0.0.1 that hands each connection to the test's
   own handler.  */
#ifndef COVE_TEST_HTTP_FIXTURE_H
#define COVE_TEST_HTTP_FIXTURE_H

#include <sys/types.h>

/* Listen on a port of the kernel's choice (*OUT_PORT) and fork a server
   that passes each connection to SERVE (which reads the request and
   writes the answer), then closes it.  Returns the server's pid, or -1.  */
pid_t test_http_server_start (void (*serve) (int fd), int *out_port);
/* Kill and reap the server PID.  */
void test_http_server_stop (pid_t pid);

struct cove_registry_client;
/* A registry client of 127.0.0.1:PORT over plain http, or NULL.  */
struct cove_registry_client *test_http_registry_client (int port);

#endif
