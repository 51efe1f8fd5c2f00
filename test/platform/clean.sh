#!/usr/bin/env bash
# Frees what test, demo and bench runs leave in the docker engine: they build images under unique names,
# and the docker driver of buildx keeps each one in the engine's store (under vfs a full copy of its
# filesystem, ~160 MB an image). Removes every image but the base, the build cache and stopped
# containers. The registries, the cluster and the caches stay. Prints what the engine's data uses after.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
docker info >/dev/null 2>&1 || exit 0   # no engine up: nothing of ours to free
base_id=$(docker image inspect --format '{{.Id}}' "$DS_BASE_IMAGE" 2>/dev/null || true)
mapfile -t ids < <(docker image ls --quiet --no-trunc | sort -u | grep -vxF "${base_id:-none}" || true)
if [ ${#ids[@]} -gt 0 ]; then docker image rm --force "${ids[@]}" >/dev/null 2>&1 || true; fi
docker container prune --force >/dev/null 2>&1 || true
docker builder prune --all --force >/dev/null 2>&1 || true
[ ${#ids[@]} -eq 0 ] || log "docker: removed ${#ids[@]} image(s); engine data now $(du -sh "$DS_CACHE/docker" 2>/dev/null | cut -f1)"
