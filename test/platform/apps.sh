# Tools that render apps as users ship them, for bluegreen-deploy's manifests input: helm built from its
# Go module (`helm template`); Kustomize overlays are rendered by `kubectl kustomize` (built into kubectl)
# when no kustomize binary is on PATH, as on the runners. Sourced by up.sh after cluster.sh (go_tools).

apps_part() {
  local helm
  helm=$(go_tools helm)
  mkdir -p "$DS_CACHE/tools"
  ln -sfn "$helm/helm" "$DS_CACHE/tools/helm"
  "$DS_CACHE/tools/helm" version --short >/dev/null 2>&1 || die "helm built but does not run"
  command -v kustomize >/dev/null 2>&1 || kubectl kustomize --help >/dev/null 2>&1 \
    || die "neither kustomize nor kubectl kustomize runs: install kubectl (it carries kustomize)"
}
