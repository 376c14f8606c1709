#!/bin/sh
# A private single-node Kubernetes cluster for churn, run as root: scripts/kube.sh start|stop|status|env
# (help lists them). See scripts/kube.ts.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/kube.ts" "$@"
