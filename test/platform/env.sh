#!/usr/bin/env bash
# Print the environment the tests and the demo use to reach the local platform.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
cat <<ENV
export DEPLOY_SUITE_CACHE='$DS_CACHE'
export DEPLOY_SUITE_RUN='$DS_RUN'
export DEPLOY_SUITE_REGISTRY='$DS_REGISTRY'
export DEPLOY_SUITE_AUTH_REGISTRY='$DS_AUTH_REGISTRY'
export DEPLOY_SUITE_AUTH_REGISTRY_USER='$DS_AUTH_REGISTRY_USER'
export DEPLOY_SUITE_AUTH_REGISTRY_PASSWORD_FILE='$DS_RUN/auth-registry.password'
export DEPLOY_SUITE_BASE_IMAGE='$DS_BASE_IMAGE'
export DEPLOY_SUITE_KUBECONFIG='$DS_RUN/kube/admin.kubeconfig'
export DEPLOY_SUITE_ACTIONLINT='$DS_CACHE/go-tools/actionlint-$DS_ACTIONLINT_VERSION/actionlint'
export DEPLOY_SUITE_ZIZMOR='$DS_CACHE/zizmor-$DS_ZIZMOR_VERSION/bin/zizmor'
export DEPLOY_SUITE_COSIGN='$DS_CACHE/tools/cosign'
export DEPLOY_SUITE_HELM='$DS_CACHE/tools/helm'
export DEPLOY_SUITE_SYFT='$DS_CACHE/tools/syft'
export DEPLOY_SUITE_ARGO_ROLLOUTS='$DS_CACHE/tools/rollouts-controller'
export DEPLOY_SUITE_TRIVY='$DS_CACHE/tools/trivy'
export DEPLOY_SUITE_TRIVY_CACHE='$DS_CACHE/trivy'
export DEPLOY_SUITE_PROMETHEUS='http://127.0.0.1:${DEPLOY_SUITE_PROMETHEUS_PORT:-9090}'
export DEPLOY_SUITE_EMITTER='http://127.0.0.1:${DEPLOY_SUITE_EMITTER_PORT:-9464}'
export DEPLOY_SUITE_ACT='$DS_CACHE/go-tools/act-$DS_ACT_VERSION/act'
export DEPLOY_SUITE_NODE24='$DS_CACHE/bin/node'
export DEPLOY_SUITE_PROXY='http://127.0.0.1:${DEPLOY_SUITE_PROXY_PORT:-3129}'
export DEPLOY_SUITE_PROXY_LOG='$DS_RUN/squid/access.log'
export DEPLOY_SUITE_REAL_NODE='real-node'
export DEPLOY_SUITE_APP_SERVER='$DS_CACHE/tools/app-server'
export DEPLOY_SUITE_VEGETA='$DS_CACHE/go-tools/vegeta-$DS_VEGETA_VERSION/vegeta'
ENV
