/* The forked HTTP server of the unit tests (http-fixture.h).  */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/registry/registry.h"
#include "pkg/util/cleanup.h"
#include "tests/unit/http-fixture.h"

pid_t
test_http_server_start (void (*serve) (int fd), int *out_port)
{
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET,
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (s < 0 || bind (s, (struct sockaddr *) &a, sizeof a) < 0
      || listen (s, 16) < 0
      || getsockname (s, (struct sockaddr *) &a, &alen) < 0)
    {
      if (s >= 0)
        close (s);
      return -1;
    }
  *out_port = ntohs (a.sin_port);
  pid_t pid = fork ();
  if (pid == 0)
    {
      signal (SIGPIPE, SIG_IGN);
      for (;;)
        {
          int c = accept4 (s, NULL, NULL, SOCK_CLOEXEC);
          if (c < 0)
            continue;
          serve (c);
          shutdown (c, SHUT_WR);
          close (c);
        }
    }
  close (s);
  return pid;
}

void
test_http_server_stop (pid_t pid)
{
  if (pid <= 0)
    return;
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

struct cove_registry_client *
test_http_registry_client (int port)
{
  char name[64];
  snprintf (name, sizeof name, "127.0.0.1:%d", port);
  static const char *const no_certs[] = { NULL };
  struct cove_registry_options o = { .tls_verify = 0, .certs_dirs = no_certs };
  struct cove_registry_client *c = NULL;
  cleanup_error struct cove_error *err = NULL;
  return cove_registry_client_new (name, &o, &c, &err) == 0 ? c : NULL;
}
