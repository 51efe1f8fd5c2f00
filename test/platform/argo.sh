# Argo Rollouts 1.10, the blue-green peer users would pick instead, for bench/traffic.bench.ts: its
# controller built from its Go module (test/platform/go/argo, with the replace lines of its own go.mod)
# and its CRDs applied to the local cluster. Not a default part (no test uses it): `up.sh argo`, which
# bench/run.sh runs. The bench starts the controller itself, for its own namespace. Sourced by up.sh.

argo_part() {
  local dir version crds
  dir=$(go_tools argo)
  mkdir -p "$DS_CACHE/tools"
  ln -sfn "$dir/rollouts-controller" "$DS_CACHE/tools/rollouts-controller"
  version=$(cd "$here/go/argo" && GOTOOLCHAIN=go1.26.10 go list -m -f '{{.Version}}' github.com/argoproj/argo-rollouts)
  crds="$(go env GOMODCACHE)/github.com/argoproj/argo-rollouts@$version/manifests/crds"
  # One file at a time: the folder also holds a kustomization.yaml, which is no object.
  for file in "$crds"/*-crd.yaml; do
    kubectl --kubeconfig "$DS_KUBECONFIG" apply --server-side --force-conflicts -f "$file" >/dev/null ||
      die "applying Argo Rollouts' CRD $file failed"
  done
}
