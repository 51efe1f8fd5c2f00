# A current BuildKit (test/platform/go/buildkit), the builder GitHub's runners get from
# docker/setup-buildx-action, as buildx's `remote` driver: buildkitd runs on the host with the OCI worker
# (runc) and a unix socket of ours. The `docker-container` driver cannot start here (it makes its
# container privileged, and this VM's capability bounding set lacks CAP_SYS_RESOURCE); what runs inside
# that container is this same buildkitd, so the builds, exports and pushes are the ones users get.
# Also QEMU user emulation (binfmt_misc) and a two-platform base image (linux/amd64, linux/arm64) in the
# local registry, for multi-platform builds. Sourced by up.sh.

DS_BUILDKIT_BUILDER=deploy-suite-buildkit
DS_MULTI_BASE=base/debian:bookworm-multi

buildkit_binaries() {
  local dir; dir=$(go_tools buildkit)
  mkdir -p "$DS_CACHE/tools"
  ln -sfn "$dir/buildkitd" "$DS_CACHE/tools/buildkitd"
  ln -sfn "$dir/buildctl" "$DS_CACHE/tools/buildctl"
}

# buildkitd_config FILE: plain HTTP to the local registries (loopback, as on a runner's service registry).
buildkitd_config() {
  cat >"$1" <<TOML
[worker.oci]
  enabled = true
  gc = true
  gckeepstorage = "4GB"
[worker.containerd]
  enabled = false
[registry."$DS_REGISTRY"]
  http = true
  insecure = true
[registry."$DS_AUTH_REGISTRY"]
  http = true
  insecure = true
TOML
}

buildkit_answers() { "$DS_CACHE/tools/buildctl" --addr "unix://$DS_RUN/buildkit/buildkitd.sock" debug workers >/dev/null; }

buildkit_part() {
  command -v runc >/dev/null 2>&1 || apt_install runc
  buildkit_binaries
  # crane, a second reader of what the registry holds (the tests compare it with imagetools and the outputs).
  unstable_fetch crane
  ln -sfn "$(unstable_root)/usr/bin/crane" "$DS_CACHE/tools/crane"
  mkdir -p "$DS_RUN/buildkit" "$DS_CACHE/buildkit"
  buildkitd_config "$DS_RUN/buildkit/buildkitd.toml"
  # BuildKit finds QEMU's handlers when it starts: one started before them is restarted to see them.
  if buildkit_answers 2>/dev/null && [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
    ! "$DS_CACHE/tools/buildctl" --addr "unix://$DS_RUN/buildkit/buildkitd.sock" debug workers -v 2>/dev/null | grep 'linux/arm64' >/dev/null; then
    stop_daemon buildkitd
  fi
  if ! buildkit_answers 2>/dev/null; then
    start_daemon buildkitd "$DS_CACHE/tools/buildkitd" --config "$DS_RUN/buildkit/buildkitd.toml" \
      --root "$DS_CACHE/buildkit" --addr "unix://$DS_RUN/buildkit/buildkitd.sock"
    wait_up buildkitd 60 buildkit_answers
  fi
  # The builder buildx knows it by: remote driver, not made the default (tests pick it with `builder:`).
  if ! docker buildx inspect "$DS_BUILDKIT_BUILDER" >/dev/null 2>&1; then
    docker buildx create --name "$DS_BUILDKIT_BUILDER" --driver remote "unix://$DS_RUN/buildkit/buildkitd.sock" >/dev/null
  fi
  docker buildx inspect --bootstrap "$DS_BUILDKIT_BUILDER" >/dev/null || die "buildx cannot reach buildkitd (log: $DS_RUN/buildkitd.log)"
}

# QEMU user emulation: Debian's qemu-user-static registers its handlers with the F flag, so emulated
# binaries run inside build containers without the interpreter in their root filesystem.
qemu_part() {
  if [ ! -f /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc (needed for QEMU builds)"
  fi
  apt_install qemu-user-static binfmt-support
  if [ ! -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
  [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "qemu-aarch64 is not registered in binfmt_misc (update-binfmts --display qemu-aarch64)"
}

multi_base_present() {
  curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$DS_REGISTRY/v2/${DS_MULTI_BASE%%:*}/manifests/${DS_MULTI_BASE#*:}"
}

# The Debian base for both platforms as one index, from the machine's mirror: arm64's root filesystem by
# mmdebstrap under QEMU (~4 min cold, cached as a tar), each made an image by BuildKit (docker 20.10's
# import ignores --platform), joined by `buildx imagetools create`.
multi_base_part() {
  multi_base_present && return 0
  local amd64="$DS_CACHE/base/bookworm-minbase.tar" arm64="$DS_CACHE/base/bookworm-minbase-arm64.tar" ctx
  [ -s "$amd64" ] || die "the amd64 base tar is missing: run up.sh base first"
  if [ ! -s "$arm64" ]; then
    apt_install arch-test
    log "building the arm64 base rootfs with mmdebstrap under QEMU (about 4 min, cached)"
    mmdebstrap --quiet --arch=arm64 --format=tar --variant=minbase --mode=root bookworm "$arm64.partial" "$(debian_mirror)" >/dev/null 2>&1 \
      || die "mmdebstrap --arch=arm64 failed; run it by hand to see why: mmdebstrap --arch=arm64 --variant=minbase --mode=root bookworm /tmp/x.tar $(debian_mirror)"
    mv "$arm64.partial" "$arm64"
  fi
  ctx=$(mktemp -d)
  for arch in amd64 arm64; do
    mkdir -p "$ctx/$arch"
    if [ "$arch" = amd64 ]; then ln "$amd64" "$ctx/$arch/rootfs.tar" 2>/dev/null || cp "$amd64" "$ctx/$arch/rootfs.tar"; else ln "$arm64" "$ctx/$arch/rootfs.tar" 2>/dev/null || cp "$arm64" "$ctx/$arch/rootfs.tar"; fi
    printf 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/bash"]\n' >"$ctx/$arch/Dockerfile"
    docker buildx build --builder "$DS_BUILDKIT_BUILDER" --quiet --provenance=false --platform "linux/$arch" \
      --output "type=image,name=$DS_REGISTRY/${DS_MULTI_BASE%%:*}:bookworm-$arch,push=true" "$ctx/$arch" >/dev/null \
      || { rm -rf "$ctx"; die "building the $arch base image failed"; }
  done
  rm -rf "$ctx"
  docker buildx imagetools create --builder "$DS_BUILDKIT_BUILDER" --tag "$DS_REGISTRY/$DS_MULTI_BASE" \
    "$DS_REGISTRY/${DS_MULTI_BASE%%:*}:bookworm-amd64" "$DS_REGISTRY/${DS_MULTI_BASE%%:*}:bookworm-arm64" >/dev/null \
    || die "joining the base images into $DS_MULTI_BASE failed"
}
