#!/usr/bin/python3
"""A hostile OCI registry for cove's system tests (loopback only).

    hostile-registry.py [--addr 127.0.0.1] [--port 5010] [--sentinel DIR]

Answers /v2/ like a registry, and serves one image per repository name,
each with exactly one flaw (everything else, config included, is correct,
so that only the intended flaw can fail the pull):

  good            no flaw: the control case (must pull)
  wrongdigest     the layer blob's bytes do not match its digest
  wrongconfig     the config blob's bytes do not match its digest
  wrongdiffid     the config's rootfs.diff_ids do not match the layer
  manifestdigest  by digest: the manifest served is not the one asked for,
                  and its Docker-Content-Digest header lies
  truncated       the layer blob is cut in half (honest Content-Length)
  truncatedlie    Content-Length says the full size; the body stops halfway
                  and the connection closes
  hugemanifest    a 100 MiB manifest, streamed (Content-Length given)
  hugechunked     a 100 MiB manifest, no Content-Length (closed at the end)
  notjson         the manifest body is not JSON
  badmediatype    the manifest's media type is unknown
  badlayertype    a layer's media type is unknown
  dotdot          a layer entry ../../(...)/SENTINEL/dotdot
  absolute        a layer entry /SENTINEL/absolute
  symlinkescape   a layer: symlink escape -> SENTINEL (absolute) and
                  escape2 -> ../../(...)/SENTINEL, then files through them
  hardlinkpasswd  a layer: hard links to /etc/passwd and SENTINEL/target,
                  absolute and ../../ forms
  slow            a good image whose layer stalls halfway for --stall
                  seconds (for kill -9 during a pull)
  slowcopy        the same image as slow (same digests), without the stall

SENTINEL is --sentinel (default /tmp/cove-hostile-sentinel): a directory the
tests create, owned by the test user, so that an escape would really land
there and be seen.  The standard library only.
"""
import argparse
import gzip
import hashlib
import io
import json
import socket
import sys
import tarfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
HUGE = 100 << 20
DEEP = "../" * 24


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def make_tar(entries):
    """ENTRIES: (kind, name, arg): ("file", name, bytes), ("dir", name,
    None), ("symlink", name, target), ("hardlink", name, target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, arg in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1704067200
            ti.uid = ti.gid = 0
            if kind == "file":
                ti.size = len(arg)
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(arg))
                continue
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, arg, 0o777
            elif kind == "hardlink":
                ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, arg, 0o644
            tar.addfile(ti)
    return buf.getvalue()


class Image:
    """One repository's image: manifest, config and layer blobs, with the
    knobs the flaws need."""

    def __init__(self, layer_tar, layer_media=OCI_LAYER_GZ,
                 manifest_media=OCI_MANIFEST, diff_id=None):
        self.layer = gzip.compress(layer_tar, mtime=0)
        config = {
            "created": "2024-01-01T00:00:00Z",
            "architecture": host_arch(),
            "os": "linux",
            "config": {"Cmd": ["/hello"], "Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers",
                       "diff_ids": [diff_id or sha(layer_tar)]},
            "history": [{"created": "2024-01-01T00:00:00Z",
                         "created_by": "hostile-registry"}],
        }
        self.config = canonical(config)
        self.manifest_media = manifest_media
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_media,
            "config": {"mediaType": OCI_CONFIG, "digest": sha(self.config),
                       "size": len(self.config)},
            "layers": [{"mediaType": layer_media, "digest": sha(self.layer),
                        "size": len(self.layer)}],
        }
        self.manifest = canonical(manifest)
        # What the blob endpoint serves for a digest (default: the truth).
        self.blobs = {sha(self.config): self.config, sha(self.layer): self.layer}

    @property
    def layer_digest(self):
        return sha(self.layer)

    @property
    def config_digest(self):
        return sha(self.config)


def host_arch():
    import platform
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def flip(data):
    """DATA with one byte changed in the middle: same length, wrong digest."""
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def build_images(sentinel):
    s = sentinel.strip("/")
    hello = ("file", "hello", b"hello from the hostile registry\n")
    images = {}

    def good_tar(case):
        # Each case's own layer (and so digests): a store that has one
        # case's blobs cannot skip the download of another's.
        return make_tar([("dir", "etc", None), hello,
                         ("file", "etc/os-release", b"ID=hostile\n"),
                         ("file", "case", case.encode() + b"\n")])

    images["good"] = Image(good_tar("good"))

    img = Image(good_tar("wrongdigest"))
    img.blobs[img.layer_digest] = flip(img.layer)
    images["wrongdigest"] = img

    img = Image(good_tar("wrongconfig"))
    img.blobs[img.config_digest] = img.config.replace(b'"os":"linux"',
                                                      b'"os":"LINUX"')
    images["wrongconfig"] = img

    images["wrongdiffid"] = Image(good_tar("wrongdiffid"),
                                  diff_id="sha256:" + "ab" * 32)
    images["manifestdigest"] = Image(good_tar("manifestdigest"))

    img = Image(good_tar("truncated"))
    img.blobs[img.layer_digest] = img.layer[: len(img.layer) // 2]
    images["truncated"] = img
    images["truncatedlie"] = Image(good_tar("truncatedlie"))

    images["hugemanifest"] = Image(good_tar("hugemanifest"))
    images["hugechunked"] = Image(good_tar("hugechunked"))
    images["notjson"] = Image(good_tar("notjson"))
    images["badmediatype"] = Image(
        good_tar("badmediatype"),
        manifest_media="application/vnd.cove.bogus.manifest.v1+json")
    images["badlayertype"] = Image(
        good_tar("badlayertype"),
        layer_media="application/vnd.cove.bogus.layer.v1.tar+gzip")

    images["dotdot"] = Image(make_tar([
        hello, ("file", DEEP + s + "/dotdot", b"escaped via ../\n")]))
    images["absolute"] = Image(make_tar([
        hello, ("file", "/" + s + "/absolute", b"escaped via /\n")]))
    images["symlinkescape"] = Image(make_tar([
        hello,
        ("symlink", "escape", "/" + s),
        ("file", "escape/through-absolute-symlink", b"escaped\n"),
        ("symlink", "escape2", DEEP + s),
        ("file", "escape2/through-relative-symlink", b"escaped\n"),
    ]))
    images["hardlinkpasswd"] = Image(make_tar([
        hello,
        ("hardlink", "passwd-abs", "/etc/passwd"),
        ("hardlink", "passwd-rel", DEEP + "etc/passwd"),
        ("hardlink", "target-abs", "/" + s + "/target"),
        ("hardlink", "target-rel", DEEP + s + "/target"),
    ]))

    # A layer big enough (about 4 MiB of incompressible bytes) that a pull
    # is still running when the stall starts.
    noise = hashlib.shake_256(b"cove").digest(4 << 20)
    slow_tar = make_tar([hello, ("file", "noise", noise)])
    images["slow"] = Image(slow_tar)
    images["slowcopy"] = images["slow"]
    return images


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-registry/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("hostile: " + fmt % args + "\n")

    def send_json_error(self, status, code, message):
        body = canonical({"errors": [{"code": code, "message": message}]})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_body(self, body, ctype, digest=None, length=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def route(self):
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            self.send_body(b"{}", "application/json")
            return
        parts = path.split("/")
        # /v2/<name>/manifests/<ref> or /v2/<name>/blobs/<digest>
        if len(parts) != 5 or parts[0] != "" or parts[1] != "v2":
            self.send_json_error(404, "NOT_FOUND", "no such endpoint")
            return
        name, kind, ref = parts[2], parts[3], parts[4]
        img = self.server.images.get(name)
        if img is None:
            self.send_json_error(404, "NAME_UNKNOWN", "repository unknown")
        elif kind == "manifests":
            self.manifest(name, img, ref)
        elif kind == "blobs":
            self.blob(name, img, ref)
        else:
            self.send_json_error(404, "NOT_FOUND", "no such endpoint")

    def manifest(self, name, img, ref):
        if name == "hugemanifest" or name == "hugechunked":
            self.huge(chunked=(name == "hugechunked"))
            return
        if name == "notjson":
            self.send_body(b"<html><body>this is not JSON</body></html>\n",
                           OCI_MANIFEST)
            return
        if ref.startswith("sha256:") and ref != sha(img.manifest) \
                and name != "manifestdigest":
            self.send_json_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return
        digest = sha(img.manifest)
        if name == "manifestdigest":
            # The header agrees with what was asked; the body does not.
            digest = ref if ref.startswith("sha256:") else "sha256:" + "0" * 64
        self.send_body(img.manifest, img.manifest_media, digest)

    def huge(self, chunked):
        self.send_response(200)
        self.send_header("Content-Type", OCI_MANIFEST)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if chunked:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        if self.command == "HEAD":
            return
        head = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + \
            b'","annotations":{"pad":"'
        tail = b'"}}'
        pad = HUGE - len(head) - len(tail)
        self.wfile.write(head)
        chunk = b"A" * (1 << 20)
        while pad > 0:
            n = min(pad, len(chunk))
            self.wfile.write(chunk[:n])
            pad -= n
        self.wfile.write(tail)

    def blob(self, name, img, digest):
        body = img.blobs.get(digest)
        if body is None:
            self.send_json_error(404, "BLOB_UNKNOWN", "blob unknown")
            return
        ctype = "application/octet-stream"
        if name == "truncatedlie" and digest == img.layer_digest:
            self.send_body(body[: len(body) // 2], ctype, digest,
                           length=len(body))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if name == "slow" and digest == img.layer_digest:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if self.command == "HEAD":
                return
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            time.sleep(self.server.stall)
            self.wfile.write(body[half:])
            return
        self.send_body(body, ctype, digest)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5010)
    p.add_argument("--sentinel", default="/tmp/cove-hostile-sentinel")
    p.add_argument("--stall", type=float, default=20.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if not args.addr.startswith("127."):
        sys.exit("hostile-registry: loopback addresses only")
    server = ThreadingHTTPServer((args.addr, args.port), Handler)
    server.daemon_threads = True
    server.images = build_images(args.sentinel)
    server.stall = args.stall
    server.verbose = args.verbose
    print("hostile-registry: listening on %s:%d" % (args.addr, args.port),
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
