# One real node beside the kwok nodes, so the suite's images really run: kubelet and kube-proxy from the
# control plane's own wrapper module, a containerd of the platform's own (never dockerd's), Debian's CNI
# bridge plugins, a pause image built here, pulls from the local registry over plain HTTP. Sourced by
# up.sh (part realnode). The node is tainted: only pods that tolerate deploy-suite.dev/real-node land on
# it, so kwok keeps serving the scale tests. Pods live on a bridge of the platform's (10.85.0.0/24), and
# every address the tests send traffic to is a pod or Service address of this cluster.
# What it took (and why each setting) is in test/platform/README.md, "A real node".

DS_NODE_DIR="$DS_RUN/realnode"
DS_NODE_NAME=real-node
DS_NODE_BRIDGE=ds-cni0
DS_POD_SUBNET=10.85.0.0/24
DS_NODE_IP=10.85.0.1
DS_SERVICE_CIDR=10.0.0.0/24
DS_NODE_TAINT=deploy-suite.dev/real-node
DS_PAUSE_IMAGE="$DS_REGISTRY/platform/pause:1"
DS_NODE_CONTAINERD_SOCK="$DS_NODE_DIR/containerd.sock"

# The platform's own programs (test/platform/go/app): the pause process and the test app's server,
# static, built once per content of their sources.
app_binaries() {
  local module="$here/go/app" hash dir
  hash=$(find "$module" -type f -name '*.go' -o -type f -name go.mod | sort | xargs cat | sha256sum | cut -c1-12)
  dir="$DS_CACHE/go-tools/app-$hash"
  if [ ! -f "$dir/.built" ]; then
    log "building the platform's programs (pause, the test app's server)"
    mkdir -p "$dir"
    (cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/" ./cmd/...) >&2 || die "building test/platform/go/app failed"
    touch "$dir/.built"
  fi
  printf '%s\n' "$dir"
}

pause_image() {
  local bin=$1 ctx
  if curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$DS_REGISTRY/v2/platform/pause/manifests/1" 2>/dev/null; then return 0; fi
  ctx=$(mktemp -d)
  cp "$bin/pause" "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  docker build -q -t "$DS_PAUSE_IMAGE" "$ctx" >/dev/null || die "building the pause image failed"
  docker push -q "$DS_PAUSE_IMAGE" >/dev/null || die "pushing the pause image failed"
  rm -rf "$ctx"
}

node_containerd() {
  local dir="$DS_NODE_DIR/containerd"
  mkdir -p "$dir" "$DS_NODE_DIR/certs.d/$DS_REGISTRY" "$DS_NODE_DIR/cni"
  printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$DS_REGISTRY" "$DS_REGISTRY" \
    >"$DS_NODE_DIR/certs.d/$DS_REGISTRY/hosts.toml"
  # bridge + host-local on the platform's subnet, then portmap. The bridge exists already (up with the
  # node IP), so the plugin only attaches veths to it.
  cat >"$DS_NODE_DIR/cni/10-deploy-suite.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "deploy-suite",
  "plugins": [
    {
      "type": "bridge", "bridge": "$DS_NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$DS_NODE_DIR/cni-ipam",
        "ranges": [[{"subnet": "$DS_POD_SUBNET", "gateway": "$DS_NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  # restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE; without it every sandbox fails to start
  # ("can't get final child's PID from pipe: EOF").
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$DS_NODE_CONTAINERD_SOCK"
[ttrpc]
  address = "$DS_NODE_CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$DS_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DS_NODE_DIR/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DS_NODE_DIR/certs.d"
TOML
  start_daemon node-containerd /usr/bin/containerd --config "$dir/config.toml"
  wait_up node-containerd 30 ctr --address "$DS_NODE_CONTAINERD_SOCK" version
}

node_bridge() {
  ip link show "$DS_NODE_BRIDGE" >/dev/null 2>&1 || ip link add "$DS_NODE_BRIDGE" type bridge
  # replace, not "show | grep -q || add": under pipefail grep -q's early exit can fail the pipeline
  # (SIGPIPE) and add then meets the address already there ("ipv4: Address already assigned").
  ip addr replace "$DS_NODE_IP/24" dev "$DS_NODE_BRIDGE"
  ip link set "$DS_NODE_BRIDGE" up
  # Cluster addresses must never leave the machine. A Service IP kube-proxy has not programmed yet (or
  # no longer) would follow the default route to the machine's gateway, which answers HTTP (seen: a 404
  # from the sandbox's egress proxy): routed to the bridge, it stays here and fails. kwok's pod addresses
  # (10.244.0.0/16) lead nowhere real: blackholed.
  ip route replace "$DS_SERVICE_CIDR" dev "$DS_NODE_BRIDGE"
  ip route replace blackhole 10.244.0.0/16
}

node_credentials() {
  local pki="$DS_KUBE_DIR/pki" who
  for who in "kubelet:/O=system:nodes/CN=system:node:$DS_NODE_NAME" "kube-proxy:/CN=system:kube-proxy"; do
    local name=${who%%:*} subject=${who#*:}
    [ -f "$DS_NODE_DIR/$name.kubeconfig" ] && continue
    openssl req -newkey rsa:2048 -nodes -keyout "$DS_NODE_DIR/$name.key" -out "$DS_NODE_DIR/$name.csr" -subj "$subject" 2>/dev/null
    openssl x509 -req -in "$DS_NODE_DIR/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -days 30 -out "$DS_NODE_DIR/$name.crt" 2>/dev/null
    write_kubeconfig "$DS_NODE_DIR/$name.kubeconfig" "$DS_NODE_DIR/$name.crt" "$DS_NODE_DIR/$name.key"
  done
  # The cluster authorizes by RBAC alone: the node's user gets the built-in node role.
  kubectl --kubeconfig "$DS_KUBECONFIG" create clusterrolebinding deploy-suite-real-node \
    --clusterrole=system:node --user="system:node:$DS_NODE_NAME" --dry-run=client -o yaml \
    | kubectl --kubeconfig "$DS_KUBECONFIG" apply -f - >/dev/null
}

real_node_ready() {
  [ "$(kubectl --kubeconfig "$DS_KUBECONFIG" get node "$DS_NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

real_node() {
  local kube bin
  # The test app's server and the load generator come first: they change with the sources, the node not.
  bin=$(app_binaries)
  mkdir -p "$DS_NODE_DIR" "$DS_CACHE/tools"
  ln -sfn "$bin/server" "$DS_CACHE/tools/app-server"
  # The load generator of the traffic tests: vegeta, at a fixed rate, its report read by the test.
  go_install_tool vegeta github.com/tsenart/vegeta/v12 "$DS_VEGETA_VERSION"
  if daemons_alive node-containerd kubelet kube-proxy && real_node_ready; then return 0; fi
  [ -x /usr/lib/cni/bridge ] || apt_install containernetworking-plugins
  kube=$(go_tools kube)
  pause_image "$bin"
  node_bridge
  node_containerd
  node_credentials
  cat >"$DS_NODE_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $DS_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DS_KUBE_DIR/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$DS_NODE_CONTAINERD_SOCK
imageServiceEndpoint: unix://$DS_NODE_CONTAINERD_SOCK
registerWithTaints:
- {key: $DS_NODE_TAINT, value: "true", effect: NoSchedule}
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
volumePluginDir: $DS_NODE_DIR/volume-plugins
maxPods: 40
serializeImagePulls: false
resolvConf: /etc/resolv.conf
YAML
  start_daemon kubelet "$kube/kubelet" --config="$DS_NODE_DIR/kubelet.yaml" --kubeconfig="$DS_NODE_DIR/kubelet.kubeconfig" \
    --root-dir="$DS_NODE_DIR/kubelet" --node-ip="$DS_NODE_IP" --hostname-override="$DS_NODE_NAME" \
    --node-labels="deploy-suite.dev/node=real"
  cat >"$DS_NODE_DIR/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DS_NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $DS_NODE_NAME
mode: iptables
clusterCIDR: $DS_POD_SUBNET
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
oomScoreAdj: 0
nodePortAddresses: [$DS_NODE_IP/32]
iptables: {localhostNodePorts: false, minSyncPeriod: 1s, syncPeriod: 30s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  start_daemon kube-proxy "$kube/kube-proxy" --config="$DS_NODE_DIR/kube-proxy.yaml"
  wait_for 90 real_node_ready || { tail -n 40 "$DS_RUN/kubelet.log" >&2; die "the real node did not become Ready (log: $DS_RUN/kubelet.log)"; }
}

real_node_down() {
  local kube
  stop_daemon kube-proxy
  stop_daemon kubelet
  # The pods' containers outlive kubelet: their shims are children of nothing once containerd stops.
  pkill -f "containerd-shim-runc-v2 -namespace k8s.io -address $DS_NODE_CONTAINERD_SOCK" 2>/dev/null || true
  stop_daemon node-containerd
  kube=$(ls -d "$DS_CACHE"/go-tools/kube-* 2>/dev/null | head -n 1)
  [ -x "$kube/kube-proxy" ] && "$kube/kube-proxy" --cleanup >/dev/null 2>&1 || true
  local chain
  for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
    iptables -t filter -F "$chain" 2>/dev/null; iptables -t filter -X "$chain" 2>/dev/null
    iptables -t nat -F "$chain" 2>/dev/null; iptables -t nat -X "$chain" 2>/dev/null
    iptables -t mangle -F "$chain" 2>/dev/null; iptables -t mangle -X "$chain" 2>/dev/null
  done
  grep " $DS_NODE_DIR" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip route del blackhole 10.244.0.0/16 2>/dev/null || true
  ip link del "$DS_NODE_BRIDGE" 2>/dev/null || true
  true
}
