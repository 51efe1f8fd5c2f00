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
  kube-apiserver)
    # In a real cluster the controller-manager and scheduler run with leader election: when the API
    # server is gone they lose their lease, exit, and the kubelet starts them again with fresh caches.
    # Here they run without it (one of each), so they are restarted as their supervisor would; left
    # running, 1.35's EndpointSlice controller was seen to stay stale ("informer cache is out of date").
    stop_daemon kube-controller-manager
    stop_daemon kube-scheduler
    "$here/up.sh" kube >/dev/null ;;
  etcd | kwok | kube-controller-manager | kube-scheduler) "$here/up.sh" kube >/dev/null ;;
  registry | auth-registry) "$here/up.sh" registry >/dev/null ;;
  prometheus | metrics-emitter) "$here/up.sh" prometheus >/dev/null ;;
  *) die "cannot restart '$name'" ;;
esac
log "restarted $name in $((SECONDS - started)) s"
