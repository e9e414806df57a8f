#!/usr/bin/python3
"""A hostile registry for pushes (cove's system tests, loopback only).

    hostile-push.py --port P --port2 Q --log FILE

Listens on 127.0.0.1:P (the registry) and 127.0.0.1:Q (the "other host"
an upload location may point to: every request it gets is a leak).  Every
request is logged to FILE as "PORT METHOD PATH".  Blobs are never there
(HEAD 404); what the upload answers depends on the repository:

  offhost      POST: 202 with Location on 127.0.0.1:Q (another host)
  otherscheme  POST: 202 with Location file:///etc/passwd
  hugebody     POST: 500 with a 100 MiB error body
  badstatus    POST: 200 (not 202) and no Location
  liedigest    PUT: 201 with a Docker-Content-Digest of other bytes
  redirect     PUT: 307 to 127.0.0.1:Q
  denied       everything: 403 DENIED
  good         a registry that takes the push (blobs kept in memory)

The standard library only.
"""
import argparse
import hashlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE = 100 << 20
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self):
        with LOCK, open(self.server.opts.log, "a") as f:
            f.write("%d %s %s\n" % (self.server.server_port, self.command,
                                     self.path))

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def repo(self):
        parts = self.path.split("?", 1)[0].split("/")
        return parts[2] if len(parts) > 2 and parts[1] == "v2" else ""

    def handle_any(self):
        self.log()
        data = self.body()
        if self.server.server_port != self.server.opts.port:
            self.reply(201, {"Location": "/stolen"})
            return
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            self.reply(200, {"Content-Type": "application/json"}, b"{}")
            return
        repo = self.repo()
        if repo == "denied":
            self.reply(403, {"Content-Type": "application/json"},
                       b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
            return
        if self.command == "HEAD":
            self.reply(404)
        elif self.command == "POST":
            self.post(repo)
        elif self.command in ("PUT", "PATCH"):
            self.put(repo, data)
        else:
            self.reply(405)

    def post(self, repo):
        other = "http://127.0.0.1:%d" % self.server.opts.port2
        if repo == "offhost":
            self.reply(202, {"Location": other + "/v2/offhost/blobs/uploads/x"})
        elif repo == "otherscheme":
            self.reply(202, {"Location": "file:///etc/passwd"})
        elif repo == "hugebody":
            self.send_response(500)
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(HUGE // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif repo == "badstatus":
            self.reply(200)
        else:
            self.reply(202, {"Location": "/v2/%s/blobs/uploads/u1" % repo})

    def put(self, repo, data):
        other = "http://127.0.0.1:%d" % self.server.opts.port2
        if repo == "redirect":
            self.reply(307, {"Location": other + self.path})
        elif repo == "liedigest" and "/blobs/" in self.path:
            self.reply(201, {"Docker-Content-Digest": "sha256:" + "0" * 64})
        elif self.command == "PATCH":
            self.reply(202, {"Location": "/v2/%s/blobs/uploads/u1" % repo})
        else:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            if "/blobs/" in self.path:
                self.reply(201)
            else:
                self.reply(201, {"Docker-Content-Digest": digest})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--port2", type=int, required=True)
    ap.add_argument("--log", required=True)
    opts = ap.parse_args()
    servers = []
    for port in (opts.port, opts.port2):
        s = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        s.opts = opts
        s.daemon_threads = True
        servers.append(s)
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
