#!/bin/sh
# A private containerd for churn: start|stop|status|env. See scripts/containerd.ts.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/containerd.ts" "$@"
