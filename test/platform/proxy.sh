# A forward proxy (Debian's squid) for the proxy paths: HTTPS_PROXY/HTTP_PROXY/NO_PROXY as a proxy-only
# self-hosted runner has them. Sourced by up.sh. Squid on 127.0.0.1:3129 resolves the names under
# .proxied.test from a hosts file of its own (all 127.0.0.1): nothing else resolves them, so a client
# that reaches one of those names went through the proxy. Its access log is what the tests assert.

DS_PROXY_PORT=${DEPLOY_SUITE_PROXY_PORT:-3129}
DS_PROXY_DIR=$DS_RUN/squid
DS_PROXIED_NAMES="registry.proxied.test registry-tls.proxied.test kube.proxied.test github.proxied.test metrics.proxied.test app.proxied.test sigstore.proxied.test releases.proxied.test"

proxy_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$DS_PROXY_PORT" "http://registry.proxied.test:${DS_REGISTRY_PORT}/v2/")" = 200 ]; }

proxy_part() {
  command -v squid >/dev/null 2>&1 || apt_install squid
  mkdir -p "$DS_PROXY_DIR"
  local name hosts=""
  for name in $DS_PROXIED_NAMES; do hosts+="127.0.0.1 $name"$'\n'; done
  # Running with these very names: nothing to do. A new name means a new hosts file and a restart.
  if daemon_alive squid && proxy_ready && [ "$(cat "$DS_PROXY_DIR/hosts" 2>/dev/null)"$'\n' = "$hosts" ]; then return 0; fi
  stop_daemon squid
  printf '%s' "$hosts" >"$DS_PROXY_DIR/hosts"
  cat >"$DS_PROXY_DIR/squid.conf" <<CONF
http_port 127.0.0.1:$DS_PROXY_PORT
pid_filename $DS_PROXY_DIR/squid.pid
access_log stdio:$DS_PROXY_DIR/access.log squid
cache_log $DS_PROXY_DIR/cache.log
cache_store_log none
cache deny all
coredump_dir $DS_PROXY_DIR
hosts_file $DS_PROXY_DIR/hosts
# Only this machine: the proxy is for the tests, never an open relay.
acl here src 127.0.0.0/8
http_access allow here
http_access deny all
# CONNECT to any port: registries, the API server and Prometheus listen on high ports here.
shutdown_lifetime 1 seconds
CONF
  # squid drops root for its effective user: its files must be that user's.
  chown -R proxy:proxy "$DS_PROXY_DIR" 2>/dev/null || true
  start_daemon squid /usr/sbin/squid -N -f "$DS_PROXY_DIR/squid.conf"
  wait_up squid 30 proxy_ready
}
