# Prometheus 3 (built from its Go module: Debian's package is built without Kubernetes service discovery)
# scraping every second, for verify-rollback's analysis: the metrics emitter (series
# the tests play) and the real pods on the real node (Kubernetes service discovery against the local API
# server), each real pod's series labelled with its namespace, pod, app and colour as the suite's
# built-in queries read them. Sourced by up.sh. Prometheus on 127.0.0.1:9090, the emitter on 127.0.0.1:9464.
# A Pushgateway (Debian's prometheus-pushgateway) on 127.0.0.1:9091, scraped with honor_labels, takes
# the release KPIs verify-rollback pushes (pushgateway-url), so a query of Prometheus returns them.

DS_PROMETHEUS_PORT=${DEPLOY_SUITE_PROMETHEUS_PORT:-9090}
DS_EMITTER_PORT=${DEPLOY_SUITE_EMITTER_PORT:-9464}
DS_PUSHGATEWAY_PORT=${DEPLOY_SUITE_PUSHGATEWAY_PORT:-9091}
DS_PROMETHEUS_BIN="$DS_CACHE/go-tools/prometheus-$DS_PROMETHEUS_VERSION/prometheus"

prometheus_ready() { curl -fsS "http://127.0.0.1:$DS_PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; }
emitter_ready() { curl -fsS "http://127.0.0.1:$DS_EMITTER_PORT/metrics" >/dev/null 2>&1; }
pushgateway_ready() { curl -fsS "http://127.0.0.1:$DS_PUSHGATEWAY_PORT/-/ready" >/dev/null 2>&1; }

prometheus_part() {
  # Only the discovery it uses (Prometheus' build tags): a smaller, faster build than every cloud's SD.
  GOFLAGS="-tags=remove_all_sd,enable_kubernetes_sd" \
    go_install_tool prometheus github.com/prometheus/prometheus/cmd/prometheus "$DS_PROMETHEUS_VERSION"
  local node="$DS_CACHE/bin/node"
  [ -x "$node" ] || node24
  # An emitter started from an earlier version of its script is replaced (the tests speak to this one).
  local script_sum; script_sum=$(sha256sum "$here/metrics-emitter.mjs" | cut -c1-16)
  if daemon_alive metrics-emitter && [ "$(cat "$DS_RUN/metrics-emitter.sum" 2>/dev/null)" != "$script_sum" ]; then
    stop_daemon metrics-emitter
  fi
  echo "$script_sum" >"$DS_RUN/metrics-emitter.sum"
  DEPLOY_SUITE_EMITTER_PORT=$DS_EMITTER_PORT start_daemon metrics-emitter "$node" "$here/metrics-emitter.mjs"
  wait_up metrics-emitter 20 emitter_ready
  # The package's postinst does not start it here (no init system); our own instance, in memory only.
  command -v prometheus-pushgateway >/dev/null 2>&1 || apt_install prometheus-pushgateway
  start_daemon pushgateway /usr/bin/prometheus-pushgateway --web.listen-address="127.0.0.1:$DS_PUSHGATEWAY_PORT"
  wait_up pushgateway 20 pushgateway_ready
  mkdir -p "$DS_RUN/prometheus"
  # A Prometheus of another build (Debian's, from an earlier platform) is replaced.
  if daemon_alive prometheus && [ "$(cat "$DS_RUN/prometheus.exe")" != "$DS_PROMETHEUS_BIN" ]; then stop_daemon prometheus; fi
  local config; config=$(prometheus_config)
  if [ "$config" != "$(cat "$DS_RUN/prometheus.yml" 2>/dev/null)" ]; then
    printf '%s\n' "$config" >"$DS_RUN/prometheus.yml"
    # A running Prometheus reads a changed file on /-/reload (--web.enable-lifecycle).
    if daemon_alive prometheus; then
      curl -fsS -X POST "http://127.0.0.1:$DS_PROMETHEUS_PORT/-/reload" >/dev/null ||
        die "Prometheus refused $DS_RUN/prometheus.yml (its log: $DS_RUN/prometheus.log)"
    fi
  fi
  start_daemon prometheus "$DS_PROMETHEUS_BIN" --config.file="$DS_RUN/prometheus.yml" \
    --storage.tsdb.path="$DS_RUN/prometheus" --storage.tsdb.retention.time=1d \
    --web.listen-address="127.0.0.1:$DS_PROMETHEUS_PORT" --web.enable-lifecycle
  wait_up prometheus 60 prometheus_ready
}

# The real pods are found through the API server (the admin kubeconfig: the platform's own identity) and
# only on the real node: kwok's pods have addresses nothing answers on. A pod is scraped when it says so,
# the convention users' charts follow: prometheus.io/scrape: "true", prometheus.io/port, prometheus.io/path.
prometheus_config() {
  cat <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: apps
    static_configs:
      - targets: ['127.0.0.1:$DS_EMITTER_PORT']
  # What was pushed keeps its own job and labels (the pusher's), as a Pushgateway is meant to be scraped.
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$DS_PUSHGATEWAY_PORT']
  - job_name: real-pods
    kubernetes_sd_configs:
      - role: pod
        kubeconfig_file: $DS_KUBE_DIR/admin.kubeconfig
        selectors:
          - role: pod
            field: spec.nodeName=$DS_NODE_NAME
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        regex: 'true'
        action: keep
      - source_labels: [__meta_kubernetes_pod_phase]
        regex: Running
        action: keep
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: '([^:]+)(?::\\d+)?;(\\d+)'
        replacement: '\$1:\$2'
        target_label: __address__
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        regex: '(.+)'
        target_label: __metrics_path__
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name]
        target_label: app
      # The colour: the suite's label, else an Argo Rollouts pod's template hash (its analyses select by it).
      - source_labels: [__meta_kubernetes_pod_label_rollouts_pod_template_hash]
        target_label: colour
      - source_labels: [__meta_kubernetes_pod_label_deploy_suite_dev_colour]
        regex: '(.+)'
        target_label: colour
YML
}
