#!/usr/bin/env bash
# Restart one daemon of the local platform, as a fault for the tests: stop it, then bring its part up
# again (the other daemons keep running and reconnect).
#   test/platform/restart.sh kube-apiserver          graceful (SIGTERM), as an upgrade does
#   test/platform/restart.sh kube-apiserver KILL     a crash (SIGKILL)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
. "$here/cluster.sh"
name=${1:?usage: restart.sh <daemon> (kube-apiserver, etcd, kwok, registry)}
started=$SECONDS
stop_daemon "$name" "${2:-TERM}"
case "$name" in
  kube-apiserver | etcd | kwok | kube-controller-manager | kube-scheduler) "$here/up.sh" kube >/dev/null ;;
  registry | auth-registry) "$here/up.sh" registry >/dev/null ;;
  prometheus | metrics-emitter) "$here/up.sh" prometheus >/dev/null ;;
  *) die "cannot restart '$name'" ;;
esac
log "restarted $name in $((SECONDS - started)) s"
