#!/bin/sh
# Checks the shipped alert rules: syntax, unit tests, and that the Helm chart ships the same
# rules and dashboards. Needs promtool (Prometheus). Used by CI; run it after any change.
set -eu
cd "$(dirname "$0")/.."

promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml

# One source of truth: the chart's copies must match (cp them after editing deploy/).
cmp deploy/prometheus/alerts.yml helm/herald/files/alerts.yml
for dashboard in deploy/grafana/dashboards/*.json; do
  cmp "$dashboard" "helm/herald/files/dashboards/$(basename "$dashboard")"
done
for copy in helm/herald/files/dashboards/*.json; do
  [ -f "deploy/grafana/dashboards/$(basename "$copy")" ] || { echo "$copy has no source in deploy/grafana/dashboards" >&2; exit 1; }
done
echo "deploy/check.sh: rules valid, tests pass, chart copies identical"
