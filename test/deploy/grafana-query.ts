/**
 * Turns a dashboard query into the PromQL Grafana would send: template variables substituted
 * ($namespace, $release and the dashboard's own, $__rate_interval, $__range), and a
 * `label_values(selector, label)` variable query into PromQL that returns one series per value.
 */
export function grafanaQuery(
  expr: string,
  variables: Record<string, string>,
  interval: { rateInterval: string; range: string },
): string {
  const substituted = expr
    .replaceAll('$__rate_interval', interval.rateInterval)
    .replaceAll('$__range', interval.range)
    .replace(/\$\{?(\w+)\}?/g, (whole, name: string) => variables[name] ?? whole);
  if (/\$\w/.test(substituted)) throw new Error(`unknown variable in ${expr}`);
  const labelValues = /^label_values\((.+),\s*(\w+)\)$/.exec(substituted.trim());
  return labelValues ? `count by (${labelValues[2]}) (${labelValues[1]})` : substituted;
}
