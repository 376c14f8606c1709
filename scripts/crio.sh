#!/bin/sh
# A private CRI-O for churn, run as root: scripts/crio.sh start|stop|restart|status|env
# (help lists them). See scripts/crio.ts.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/crio.ts" "$@"
