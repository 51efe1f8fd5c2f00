#!/usr/bin/env bash
# Stop what up.sh started (only daemons it started itself). Caches stay; `--purge` also drops the
# registry's content and the runtime folder.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/cluster.sh"
. "$here/realnode.sh"
real_node_down
kube_down
stop_daemon squid
stop_daemon prometheus
stop_daemon metrics-emitter
stop_daemon pushgateway
stop_daemon buildkitd
stop_daemon registry
stop_daemon auth-registry
stop_daemon dockerd
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$DS_CACHE/registry" "$DS_RUN"
  log "purged registry storage and $DS_RUN"
fi
