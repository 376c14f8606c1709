#!/bin/sh
# Generates the TypeScript types of the CRI subset (src/cri/proto/api.proto) into
# src/cri/generated/ with proto-loader-gen-types. The options must match the loader's in
# src/cri/proto-loader.ts: camelCase fields, int64 as String, enums as String, defaults on.
#
# Usage: scripts/gen-proto.sh           regenerate src/cri/generated/
#        scripts/gen-proto.sh --check   exit 1 when regenerating would change anything
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out_dir="$root/src/cri/generated"

generate() {
  rm -rf "$1"
  mkdir -p "$1"
  # Run from the repository root with a relative include dir, so the "Original file" comments
  # in the output name src/cri/proto/api.proto and not this checkout's absolute path.
  (cd "$root" && node_modules/.bin/proto-loader-gen-types \
    --longs=String --enums=String --defaults --oneofs \
    --grpcLib=@grpc/grpc-js \
    --importFileExtension=.js --targetFileExtension=.ts \
    -I src/cri/proto -O "$1" api.proto)
}

case "${1:-}" in
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    generate "$tmp/generated"
    if ! diff -r "$out_dir" "$tmp/generated" >/dev/null; then
      echo "src/cri/generated/ is out of date: run scripts/gen-proto.sh" >&2
      diff -ru "$out_dir" "$tmp/generated" | head -40 >&2
      exit 1
    fi
    echo "src/cri/generated/ is up to date"
    ;;
  "")
    generate "$out_dir"
    echo "generated $out_dir"
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
