# The local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# built from their Go modules, and kwok simulating nodes and pod lifecycle. Sourced by up.sh.
# Everything listens on 127.0.0.1; certificates and keys are made here; binaries are cached per go.mod.

DS_KUBE_DIR="$DS_RUN/kube"
DS_KUBECONFIG="$DS_KUBE_DIR/admin.kubeconfig"
DS_APISERVER_PORT=${DEPLOY_SUITE_APISERVER_PORT:-6443}
DS_ETCD_PORT=${DEPLOY_SUITE_ETCD_PORT:-2379}

# Builds the tools of one wrapper module (test/platform/go/<name>) once per content of its go.mod
# and go.sum; prints the folder holding the binaries.
go_tools() {
  local name=$1 module="$here/go/$1" hash dir ldflags="-s -w" experiment="" toolchain="" tags="" cgo=""
  # trivy 0.74 uses encoding/json/v2, still an experiment in Go 1.26.
  [ "$name" = trivy ] && experiment=jsonv2
  # Argo Rollouts 1.10 asks for Go 1.26.10: the go command fetches that toolchain from the module proxy.
  [ "$name" = argo ] && toolchain=go1.26.10
  if [ "$name" = buildkit ]; then
    # As BuildKit's own release build: static, with its version stamped (buildx reads it to gate features).
    tags="osusergo netgo static_build seccomp"; cgo=0
    ldflags="$ldflags -X github.com/moby/buildkit/version.Version=$(module_version buildkit github.com/moby/buildkit)"
  fi
  if [ "$name" = kube ]; then
    local v minor; v=$(module_version kube k8s.io/kubernetes)
    minor=${v#v1.}; minor=${minor%%.*}
    # Without these the servers report v0.0.0-master, and kube-apiserver refuses to start.
    ldflags="$ldflags -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  fi
  hash=$(printf '%s\n' "$ldflags${experiment:+ GOEXPERIMENT=$experiment}${tags:+ tags=$tags}" | cat "$module/go.mod" "$module/go.sum" - | sha256sum | cut -c1-12)
  dir="$DS_CACHE/go-tools/$name-$hash"
  if [ ! -f "$dir/.built" ]; then
    command -v go >/dev/null 2>&1 || die "Go is needed to build $name (the machine image has it in /usr/local/go/bin)"
    log "building $name from Go modules (cold: several minutes; cached in $dir)"
    local started=$SECONDS
    mkdir -p "$dir"
    (cd "$module" && GOEXPERIMENT=$experiment GOTOOLCHAIN=${toolchain:-$(go env GOTOOLCHAIN)} CGO_ENABLED=${cgo:-$(go env CGO_ENABLED)} go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$dir/" tool) >&2 || die "building $name failed (see above)"
    # go names a binary after its package path; etcd's ends in server/v3.
    if [ -f "$dir/server" ]; then mv "$dir/server" "$dir/etcd"; fi
    touch "$dir/.built"
    log "built $name in $((SECONDS - started)) s"
  fi
  printf '%s\n' "$dir"
}

# The version a wrapper module requires of a dependency, as go resolves it.
module_version() { (cd "$here/go/$1" && go list -m -f '{{.Version}}' "$2"); }

# Writes kwok's stages to $1 (default: the file kwok runs with).
kwok_stages() {
  local modroot stages="${1:-$DS_KUBE_DIR/kwok-stages.yaml}"
  (cd "$here/go/kwok" && go mod download sigs.k8s.io/kwok >&2)
  modroot="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$(module_version kwok sigs.k8s.io/kwok)/kustomize/stage"
  # kwok ships no stages of its own at run time; these are its 'fast' set, with two changes: pods
  # labelled deploy-suite.test/hold-not-ready=true are never made ready (for the deadline tests), and a
  # Job's pods labelled deploy-suite.test/fail=true end Failed with exit code 1 (a failing hook).
  local exclude="s|^    matchExpressions:$|    matchExpressions:\n    - key: '.metadata.labels[\\\"deploy-suite.test/LABEL\\\"]'\n      operator: 'DoesNotExist'|"
  {
    cat "$modroot/node/fast/node-initialize.yaml"; echo '---'
    cat "$modroot/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"; echo '---'
    sed "${exclude//LABEL/hold-not-ready}" "$modroot/pod/fast/pod-ready.yaml"; echo '---'
    sed "${exclude//LABEL/fail}" "$modroot/pod/fast/pod-complete.yaml"; echo '---'
    sed -e 's/name: pod-complete/name: pod-fail/' -e 's/exitCode: 0/exitCode: 1/' -e 's/reason: Completed/reason: Error/' \
      -e 's/phase: Succeeded/phase: Failed/' \
      -e "s|^    matchExpressions:$|    matchExpressions:\n    - key: '.metadata.labels[\\\"deploy-suite.test/fail\\\"]'\n      operator: 'In'\n      values: ['true']|" \
      "$modroot/pod/fast/pod-complete.yaml"; echo '---'
    cat "$modroot/pod/fast/pod-delete.yaml"
  } >"$stages"
  grep -q 'hold-not-ready' "$stages" || die "could not add the hold-not-ready selector to kwok's pod-ready stage"
  grep -q 'name: pod-fail' "$stages" || die "could not add the pod-fail stage to kwok's stages"
}

# A CA, serving and client certificates, and the service-account key pair (openssl, once per run dir).
kube_pki() {
  local pki="$DS_KUBE_DIR/pki"
  [ -f "$pki/.done" ] && return 0
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=deploy-suite-ca" 2>/dev/null
    cat >apiserver.ext <<EXT
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EXT
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
    echo 'extendedKeyUsage=clientAuth' >client.ext
    for who in "admin:/O=system:masters/CN=deploy-suite-admin" "controller-manager:/CN=system:kube-controller-manager" "scheduler:/CN=system:kube-scheduler" "kwok:/O=system:masters/CN=kwok"; do
      local name=${who%%:*} subject=${who#*:}
      openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 3650 -extfile client.ext 2>/dev/null
    done
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  for name in admin controller-manager scheduler kwok; do
    write_kubeconfig "$DS_KUBE_DIR/$name.kubeconfig" "$pki/$name.crt" "$pki/$name.key"
  done
  touch "$pki/.done"
}

write_kubeconfig() {
  local file=$1 cert=$2 key=$3 pki="$DS_KUBE_DIR/pki"
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$DS_APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: user
  user:
    client-certificate-data: $(base64 -w0 <"$cert")
    client-key-data: $(base64 -w0 <"$key")
contexts:
- name: local
  context: {cluster: local, user: user}
current-context: local
KC
  chmod 600 "$file"
}

daemons_alive() {
  local name
  for name in "$@"; do daemon_alive "$name" || return 1; done
}

nodes_ready() {
  [ "$(kubectl --kubeconfig "$DS_KUBECONFIG" get nodes -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}' | tr ' ' '\n' | grep -c True)" -ge 3 ]
}
apiserver_ready() { kubectl --kubeconfig "$DS_KUBECONFIG" get --raw /readyz >/dev/null 2>&1; }

start_kwok() {
  start_daemon kwok "$1/kwok" --kubeconfig="$DS_KUBE_DIR/kwok.kubeconfig" --config="$DS_KUBE_DIR/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 --cidr=10.244.0.0/16 --server-address=127.0.0.1:10247
}

kube_cluster() {
  if [ -f "$DS_KUBECONFIG" ] && apiserver_ready && daemons_alive etcd kube-apiserver kube-controller-manager kube-scheduler kwok; then
    # A running kwok reads its stages once: restarted when they changed (its nodes and pods stay).
    local next="$DS_KUBE_DIR/kwok-stages.next"
    kwok_stages "$next"
    if ! cmp -s "$next" "$DS_KUBE_DIR/kwok-stages.yaml"; then
      log "kwok's stages changed: restarting kwok"
      mv "$next" "$DS_KUBE_DIR/kwok-stages.yaml"
      stop_daemon kwok
      start_kwok "$(go_tools kwok)"
    fi
    rm -f "$next"
    return 0
  fi
  command -v kubectl >/dev/null 2>&1 || die "kubectl is needed (the machine image has it)"
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  local kube etcd kwok pki="$DS_KUBE_DIR/pki"
  etcd=$(go_tools etcd); kube=$(go_tools kube); kwok=$(go_tools kwok)
  mkdir -p "$DS_KUBE_DIR"
  kube_pki
  kwok_stages

  start_daemon etcd "$etcd/etcd" --name=local --data-dir="$DS_KUBE_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$DS_ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$DS_ETCD_PORT" \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=local=http://127.0.0.1:2380 --unsafe-no-fsync --quota-backend-bytes=4294967296
  wait_up etcd 30 curl -fsS "http://127.0.0.1:$DS_ETCD_PORT/health"

  start_daemon kube-apiserver "$kube/kube-apiserver" --etcd-servers="http://127.0.0.1:$DS_ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$DS_APISERVER_PORT" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --authorization-mode=RBAC --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --enable-priority-and-fairness=false --max-requests-inflight=1000 --max-mutating-requests-inflight=500
  wait_up kube-apiserver 90 apiserver_ready

  # The node controller only has to lift the not-ready taint of new nodes. kwok's heartbeats can lag
  # under thousands of pods; a short grace period then marks every pod not ready, for good (kwok only
  # readies pending pods), so it is long here.
  start_daemon kube-controller-manager "$kube/kube-controller-manager" --kubeconfig="$DS_KUBE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$DS_KUBE_DIR/controller-manager.kubeconfig" --authorization-kubeconfig="$DS_KUBE_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false --use-service-account-credentials=true \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --controllers='*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pv-protection,-pvc-protection' \
    --kube-api-qps=500 --kube-api-burst=1000 --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 \
    --node-monitor-grace-period=1h
  start_daemon kube-scheduler "$kube/kube-scheduler" --kubeconfig="$DS_KUBE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$DS_KUBE_DIR/scheduler.kubeconfig" --authorization-kubeconfig="$DS_KUBE_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --kube-api-qps=500 --kube-api-burst=1000
  start_kwok "$kwok"

  # Fake nodes with room for 6,000 pods: two apps of 1,000 replicas, each keeping its other colour warm.
  local n
  for n in 0 1 2; do
    kubectl --kubeconfig "$DS_KUBECONFIG" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$n
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$n, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
spec: {}
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "2000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "2000"}
NODE
  done
  wait_for 60 nodes_ready \
    || { tail -n 30 "$DS_RUN/kwok.log" >&2; die "kwok did not make the fake nodes Ready"; }
  wait_for 60 kubectl --kubeconfig "$DS_KUBECONFIG" get serviceaccount default -n default \
    || die "the default service account did not appear (is kube-controller-manager running? see $DS_RUN/kube-controller-manager.log)"
}

kube_down() {
  stop_daemon kwok
  stop_daemon kube-scheduler
  stop_daemon kube-controller-manager
  stop_daemon kube-apiserver
  stop_daemon etcd
}
