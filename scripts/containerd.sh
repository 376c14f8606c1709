#!/bin/sh
# A private containerd for churn, run as root: scripts/containerd.sh start|stop|restart|status|env
# (help lists them). See scripts/containerd.ts.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/containerd.ts" "$@"
