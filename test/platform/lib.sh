# Shared settings and helpers for the local platform scripts. Sourced, never run.
# Everything slow to build or fetch lives in $DS_CACHE (outside the repo, kept between runs);
# runtime state (pids, logs, configs) lives in $DS_RUN.
set -euo pipefail

DS_CACHE=${DEPLOY_SUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deploy-suite}
DS_RUN=${DEPLOY_SUITE_RUN:-/tmp/deploy-suite}
DS_REGISTRY_PORT=${DEPLOY_SUITE_REGISTRY_PORT:-5000}
DS_REGISTRY=127.0.0.1:${DS_REGISTRY_PORT}
DS_AUTH_REGISTRY=127.0.0.1:${DEPLOY_SUITE_AUTH_REGISTRY_PORT:-5001}
DS_AUTH_REGISTRY_USER=ci-bot
DS_BASE_IMAGE=deploy-suite/base:bookworm
DS_NODE_MAJOR=24
# Tool versions, named once for up.sh (which installs them) and env.sh (which points at them).
DS_ACTIONLINT_VERSION=v1.7.12
DS_ACT_VERSION=v0.2.87
DS_ZIZMOR_VERSION=1.32.0
DS_VEGETA_VERSION=v12.13.0
# Prometheus 3's Go module (its v3 releases are tagged v0.3xx.y there).
DS_PROMETHEUS_VERSION=v0.316.0
mkdir -p "$DS_CACHE" "$DS_RUN"

log() { printf '[platform] %s\n' "$*" >&2; }
die() { printf '[platform] error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror this machine's own apt sources use: never hard-coded, so the scripts work behind
# whatever mirror the machine is configured for.
debian_mirror() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' | grep -v -- '-security' | head -n1 || true)
  fi
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list(.d); configure apt first"
  printf '%s\n' "${uri%/}"
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then log "apt-get update"; apt-get update -q >/dev/null; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Packages from Debian's unstable suite, fetched through an apt configuration of our own so the
# machine's apt state is untouched, and unpacked (not installed) under $DS_CACHE/unstable/root.
unstable_root() { printf '%s\n' "$DS_CACHE/unstable/root"; }
unstable_fetch() {
  local dir="$DS_CACHE/unstable" pkg
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs" "$dir/root"
  local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  local need=()
  for pkg in "$@"; do [ -f "$dir/debs/$pkg.done" ] || need+=("$pkg"); done
  [ ${#need[@]} -eq 0 ] && return 0
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s unstable main\n' "$(debian_mirror)" > "$dir/sources.list"
  if [ ! -f "$dir/lists/.updated" ] || [ -n "$(find "$dir/lists/.updated" -mmin +1440)" ]; then
    log "apt-get update (unstable, private lists)"
    apt-get "${opts[@]}" update -q >/dev/null
    touch "$dir/lists/.updated"
  fi
  for pkg in "${need[@]}"; do
    log "fetching $pkg from unstable"
    (cd "$dir/debs" && rm -f "${pkg}"_*.deb && apt-get "${opts[@]}" download -q "$pkg" >/dev/null)
    dpkg -x "$dir/debs/${pkg}"_*.deb "$dir/root"
    touch "$dir/debs/$pkg.done"
  done
}

# Wait until a command succeeds, up to $1 seconds.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# Wait until a daemon answers ($3...), up to $2 seconds; fail at once if it died, showing its log.
wait_up() {
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds)) pid
  until "$@" >/dev/null 2>&1; do
    if ! daemon_alive "$name"; then
      tail -n 30 "$DS_RUN/$name.log" >&2; die "$name exited while starting (log: $DS_RUN/$name.log)"
    fi
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$DS_RUN/$name.log" >&2; die "$name did not answer within $seconds s (log: $DS_RUN/$name.log)"; }
    sleep 0.2
  done
}

# Whether the daemon of a pid file runs: its pid is alive AND runs the program it was started with.
# After a reboot a stale pid file may name a live, unrelated process (pids are reused), and the daemon
# would never be started again.
daemon_alive() {
  local name=$1 pid exe
  pid=$(cat "$DS_RUN/$name.pid" 2>/dev/null) || return 1
  exe=$(cat "$DS_RUN/$name.exe" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n 1)" = "$exe" ]
}

# Start a daemon in the background with its own log and pid file, unless it runs already.
start_daemon() {
  local name=$1; shift
  local pidfile="$DS_RUN/$name.pid"
  daemon_alive "$name" && return 0
  log "starting $name (log: $DS_RUN/$name.log)"
  printf '%s\n' "$1" >"$DS_RUN/$name.exe"
  nohup setsid "$@" >"$DS_RUN/$name.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"
  # The background pid runs nohup, then setsid, then the program: until that exec chain is done its
  # cmdline is not the program's yet, and daemon_alive would call a daemon that is starting dead
  # (seen on a loaded CI machine). Wait for the exec, or for the process to end.
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && ! daemon_alive "$name" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
}

# stop_daemon NAME [SIGNAL]: TERM by default (a graceful stop); KILL simulates a crash.
stop_daemon() {
  local name=$1 signal=${2:-TERM} pidfile="$DS_RUN/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if daemon_alive "$name"; then
    log "stopping $name ($signal)"
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
