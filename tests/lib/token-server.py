#!/usr/bin/python3
"""A bearer-token server for docker-registry's `auth: token` (loopback only).

    token-server.py --port 5002 --key KEY.pem --cert CERT.pem \
        --issuer ISSUER --service SERVICE --user USER --password-file FILE

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] (and the
OAuth2 form POST /token with grant_type=password) checks the HTTP basic
credentials and answers {"token": JWT, "access_token": JWT, "expires_in",
"issued_at"}.  The JWT is signed RS256 with KEY (by the openssl command: no
Python package needed) and carries CERT in its x5c header, which the
registry verifies against its rootcertbundle.

  - right credentials: every action asked for is granted;
  - no credentials: a token with no access at all (as Docker Hub gives
    anonymous users), so the registry answers 401 to what needs access;
  - wrong credentials: 401.
The standard library and /usr/bin/openssl only.
"""
import argparse
import base64
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(path):
    with open(path) as f:
        pem = f.read()
    body = pem.split("-----BEGIN CERTIFICATE-----", 1)[1]
    body = body.split("-----END CERTIFICATE-----", 1)[0]
    return "".join(body.split())


def sign_rs256(key, data):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=data, stdout=subprocess.PIPE, check=True)
    return out.stdout


def parse_scope(scope):
    """repository:NAME:ACTIONS (NAME may hold a port's colon: split from
    the right)."""
    typ, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not typ or not name:
        return None
    return {"type": typ, "name": name,
            "actions": [a for a in actions.split(",") if a]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cove-test-token/1"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("token: " + fmt % args + "\n")

    def reply(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def credentials(self, form):
        """(user, password) from basic auth or the OAuth2 form; None."""
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                return ("", "")
            user, _, pw = raw.partition(":")
            return (user, pw)
        if form.get("grant_type", [""])[0] == "password":
            return (form.get("username", [""])[0],
                    form.get("password", [""])[0])
        return None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.issue(url.path, urllib.parse.parse_qs(url.query))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(min(n, 65536)).decode(errors="replace")
        self.issue(url.path, urllib.parse.parse_qs(body))

    def issue(self, path, form):
        o = self.server.opts
        if path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
            return
        creds = self.credentials(form)
        if creds is not None:
            ok = hmac.compare_digest(creds[0], o.user) and \
                hmac.compare_digest(creds[1], o.password)
            if not ok:
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "bad credentials"}]},
                           {"WWW-Authenticate": 'Basic realm="cove-test"'})
                return
        service = form.get("service", [o.service])[0]
        access = []
        if creds is not None:
            for s in form.get("scope", []):
                for one in s.split(" "):
                    a = parse_scope(one)
                    if a:
                        access.append(a)
        now = int(time.time())
        claims = {
            "iss": o.issuer,
            "sub": creds[0] if creds else "",
            "aud": service,
            "exp": now + 300,
            "nbf": now - 30,
            "iat": now,
            "jti": b64url(os.urandom(12)),
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "x5c": [o.cert_b64]}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        token = signing_input.decode() + "." + \
            b64url(sign_rs256(o.key, signing_input))
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        self.reply(200, {"token": token, "access_token": token,
                         "expires_in": 300, "issued_at": issued})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5002)
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--issuer", default="cove-test-token-server")
    p.add_argument("--service", default="cove-test-registry")
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args()
    if not opts.addr.startswith("127."):
        sys.exit("token-server: loopback addresses only")
    with open(opts.password_file) as f:
        opts.password = f.read().strip()
    opts.cert_b64 = cert_der_b64(opts.cert)
    server = ThreadingHTTPServer((opts.addr, opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    print("token-server: listening on %s:%d" % (opts.addr, opts.port),
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
