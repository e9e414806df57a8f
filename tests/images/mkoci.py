#!/usr/bin/python3
"""Write test images into an OCI image layout (image-spec v1), offline.

    mkoci.py image DIR --tag TAG [--arch amd64] [--config JSON]
                       [--layer FILE[=COMMENT]]...
        adds one image made of the given layer tarballs (gzip-compressed or
        plain, recognised by their magic) under TAG.  JSON is the image
        config's "config" object (Cmd, Env, WorkingDir, ...).
    mkoci.py index DIR --tag TAG --from TAG1 --from TAG2 ...
        adds an image index (a multi-arch "manifest list") of the images
        already tagged TAG1, TAG2... in DIR, each entry with its platform.

The blobs are content-addressed (sha256); index.json names each top-level
manifest with org.opencontainers.image.ref.name, as skopeo's oci: transport
expects.  Only the standard library: the test set-up must work offline.
"""
import argparse
import gzip
import hashlib
import json
import os
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZ = OCI_LAYER + "+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
# A fixed creation time: the same recipe gives the same image id.
CREATED = "2024-01-01T00:00:00Z"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def diff_id(path, compressed):
    h = hashlib.sha256()
    opener = gzip.open if compressed else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def layout_init(root):
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    index = os.path.join(root, "index.json")
    if not os.path.exists(index):
        with open(index, "w") as f:
            json.dump({"schemaVersion": 2, "manifests": []}, f)


def put_blob_bytes(root, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(root, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
    return "sha256:" + digest, len(data)


def put_blob_file(root, src):
    digest = sha256_file(src)
    path = os.path.join(root, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(src, "rb") as fi, open(path + ".tmp", "wb") as fo:
            for chunk in iter(lambda: fi.read(1 << 20), b""):
                fo.write(chunk)
        os.rename(path + ".tmp", path)
    return "sha256:" + digest, os.path.getsize(src)


def read_blob(root, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(root, "blobs", algo, hexd), "rb") as f:
        return f.read()


def load_index(root):
    with open(os.path.join(root, "index.json")) as f:
        return json.load(f)


def tag_manifest(root, tag, desc):
    """Point TAG at DESC in index.json (replacing an older TAG)."""
    index = load_index(root)
    keep = [m for m in index["manifests"]
            if m.get("annotations", {}).get(REF_NAME) != tag]
    desc = dict(desc)
    desc["annotations"] = {REF_NAME: tag}
    keep.append(desc)
    index["manifests"] = keep
    data = json.dumps(index, indent=2).encode()
    with open(os.path.join(root, "index.json.tmp"), "wb") as f:
        f.write(data)
    os.rename(os.path.join(root, "index.json.tmp"),
              os.path.join(root, "index.json"))


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def cmd_image(args):
    layout_init(args.dir)
    layers, diff_ids, history = [], [], []
    for spec in args.layer:
        path, _, comment = spec.partition("=")
        gz = is_gzip(path)
        digest, size = put_blob_file(args.dir, path)
        layers.append({"mediaType": OCI_LAYER_GZ if gz else OCI_LAYER,
                       "digest": digest, "size": size})
        diff_ids.append(diff_id(path, gz))
        history.append({"created": CREATED,
                        "created_by": comment or "cove test layer " + os.path.basename(path)})
    conf = json.loads(args.config) if args.config else {}
    history.append({"created": CREATED, "created_by": "cove test config",
                    "empty_layer": True})
    config = {
        "created": CREATED,
        "author": "cove tests",
        "architecture": args.arch,
        "os": "linux",
        "config": conf,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    if args.variant:
        config["variant"] = args.variant
    cdigest, csize = put_blob_bytes(args.dir, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cdigest, "size": csize},
        "layers": layers,
    }
    mdigest, msize = put_blob_bytes(args.dir, canonical(manifest))
    platform = {"architecture": args.arch, "os": "linux"}
    if args.variant:
        platform["variant"] = args.variant
    tag_manifest(args.dir, args.tag, {"mediaType": OCI_MANIFEST,
                                      "digest": mdigest, "size": msize,
                                      "platform": platform})
    # The image id as podman prints it: the config's digest.
    print(cdigest.split(":", 1)[1])


def cmd_index(args):
    layout_init(args.dir)
    by_tag = {m.get("annotations", {}).get(REF_NAME): m
              for m in load_index(args.dir)["manifests"]}
    entries = []
    for tag in args.source:
        if tag not in by_tag:
            sys.exit("mkoci: no image tagged %s in %s" % (tag, args.dir))
        desc = dict(by_tag[tag])
        desc.pop("annotations", None)
        if "platform" not in desc:
            config = json.loads(read_blob(args.dir, json.loads(
                read_blob(args.dir, desc["digest"]))["config"]["digest"]))
            desc["platform"] = {"architecture": config["architecture"],
                                "os": config["os"]}
        entries.append(desc)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    digest, size = put_blob_bytes(args.dir, canonical(index))
    tag_manifest(args.dir, args.tag, {"mediaType": OCI_INDEX,
                                      "digest": digest, "size": size})
    print(digest.split(":", 1)[1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pi = sub.add_parser("image")
    pi.add_argument("dir")
    pi.add_argument("--tag", required=True)
    pi.add_argument("--arch", default="amd64")
    pi.add_argument("--variant", default="")
    pi.add_argument("--config", default="")
    pi.add_argument("--layer", action="append", default=[])
    pi.set_defaults(fn=cmd_image)
    px = sub.add_parser("index")
    px.add_argument("dir")
    px.add_argument("--tag", required=True)
    px.add_argument("--from", dest="source", action="append", required=True)
    px.set_defaults(fn=cmd_index)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
