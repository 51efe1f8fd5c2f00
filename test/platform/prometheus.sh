# Prometheus (Debian) scraping the metrics emitter every second, for verify-rollback's analysis.
# Sourced by up.sh. Prometheus on 127.0.0.1:9090, the emitter on 127.0.0.1:9464.

DS_PROMETHEUS_PORT=${DEPLOY_SUITE_PROMETHEUS_PORT:-9090}
DS_EMITTER_PORT=${DEPLOY_SUITE_EMITTER_PORT:-9464}

prometheus_ready() { curl -fsS "http://127.0.0.1:$DS_PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; }
emitter_ready() { curl -fsS "http://127.0.0.1:$DS_EMITTER_PORT/metrics" >/dev/null 2>&1; }

prometheus_part() {
  apt_install prometheus
  local node="$DS_CACHE/bin/node"
  [ -x "$node" ] || node24
  DEPLOY_SUITE_EMITTER_PORT=$DS_EMITTER_PORT start_daemon metrics-emitter "$node" "$here/metrics-emitter.mjs"
  wait_up metrics-emitter 20 emitter_ready
  mkdir -p "$DS_RUN/prometheus"
  cat >"$DS_RUN/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: apps
    static_configs:
      - targets: ['127.0.0.1:$DS_EMITTER_PORT']
YML
  start_daemon prometheus /usr/bin/prometheus --config.file="$DS_RUN/prometheus.yml" \
    --storage.tsdb.path="$DS_RUN/prometheus" --storage.tsdb.retention.time=1d \
    --web.listen-address="127.0.0.1:$DS_PROMETHEUS_PORT" --web.enable-lifecycle
  wait_up prometheus 60 prometheus_ready
}
