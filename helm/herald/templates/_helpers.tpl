{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; role resources append -api, -worker, -beat. */}}
{{- define "herald.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "herald.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ include "herald.chart" . }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- end -}}

{{/* Role-scoped labels. Call with (dict "root" $ "role" "api"); a worker pool's objects add
"pool" (its name), which only they select on: the ops Service and NetworkPolicy select every pool. */}}
{{- define "herald.roleSelectorLabels" -}}
{{ include "herald.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- with .pool }}
herald.dev/pool: {{ . }}
{{- end }}
{{- end -}}

{{- define "herald.roleLabels" -}}
{{ include "herald.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- with .pool }}
herald.dev/pool: {{ . }}
{{- end }}
{{- end -}}

{{- define "herald.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "herald.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The queues the code defines (QUEUE_NAMES in libs/queues; test/deploy/worker-pools.spec.ts holds
them together), to refuse pools that leave one unconsumed. */}}
{{- define "herald.queues" -}}
system,runs,deliveries,sourcing
{{- end -}}

{{/* The worker pools, name → settings (worker.* under the pool's own keys), as JSON. Refuses
pools that leave a queue with no consumer. */}}
{{- define "herald.workerPools" -}}
{{- $worker := .Values.worker -}}
{{- $pools := dict -}}
{{- $consumed := list -}}
{{- range $name, $pool := $worker.pools -}}
{{- $queues := $pool.queues | default list -}}
{{- $consumed = concat $consumed (empty $queues | ternary (splitList "," (include "herald.queues" $)) $queues) -}}
{{- $settings := dict
  "name" $name
  "queues" $queues
  "replicas" (hasKey $pool "replicas" | ternary $pool.replicas $worker.replicas)
  "resources" $pool.resources
  "env" (merge (dict "WORKER_QUEUES" (join "," $queues)) (deepCopy ($pool.env | default dict)) (deepCopy ($worker.env | default dict)))
  "pdb" (mergeOverwrite (deepCopy $worker.pdb) (deepCopy ($pool.pdb | default dict)))
  "hpa" (mergeOverwrite (deepCopy $worker.hpa) (deepCopy ($pool.hpa | default dict)))
  "keda" (mergeOverwrite (deepCopy $worker.keda) (deepCopy ($pool.keda | default dict))) -}}
{{- $_ := set $pools $name $settings -}}
{{- end -}}
{{- if empty $pools -}}
{{- fail "worker.pools is empty: no worker would consume any queue" -}}
{{- end -}}
{{- range $queue := splitList "," (include "herald.queues" .) -}}
{{- if not (has $queue $consumed) -}}
{{- fail (printf "worker.pools: no pool consumes the %s queue (add it to a pool's queues, or leave a pool's queues empty for every queue)" $queue) -}}
{{- end -}}
{{- end -}}
{{- toJson $pools -}}
{{- end -}}

{{/* Which autoscaler owns a worker pool's replicas: "keda", "hpa" or "" (the Deployment's replicas).
KEDA only where the cluster serves its CRDs (a ScaledObject elsewhere fails the install), unless
the renderer cannot see the cluster and says so with keda.skipCapabilitiesCheck. Call with
(dict "root" $ "pool" <settings from herald.workerPools>). */}}
{{- define "herald.workerAutoscaler" -}}
{{- $keda := .pool.keda -}}
{{- if and $keda.enabled (or $keda.skipCapabilitiesCheck (.root.Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject")) -}}
keda
{{- else if .pool.hpa.enabled -}}
hpa
{{- end -}}
{{- end -}}

{{- define "herald.secretName" -}}
{{- default (printf "%s-secrets" (include "herald.fullname" .)) .Values.secret.existingSecret -}}
{{- end -}}

{{/* SHUTDOWN_GRACE_MS rounded up to seconds, plus the preStop sleep, plus 10 s of margin. */}}
{{- define "herald.terminationGracePeriodSeconds" -}}
{{- add (div (add (int64 .Values.shutdownGraceMs) 999) 1000) (int64 .Values.preStopSleepSeconds) 10 -}}
{{- end -}}

{{/* Pod-level settings shared by every role. Call with (dict "root" $ "role" "api"). */}}
{{- define "herald.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "herald.serviceAccountName" $root }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ include "herald.terminationGracePeriodSeconds" $root }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "herald.roleSelectorLabels" . | nindent 8 }}
volumes:
  # readOnlyRootFilesystem: the only writable place is an in-memory /tmp.
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: 64Mi
{{- with $root.Values.extraVolumes }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container settings shared by every role. Call with (dict "root" $ "role" "api"); a worker pool
passes its own "env" and "resources". */}}
{{- define "herald.containerCommon" -}}
{{- $root := .root -}}
image: {{ include "herald.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
args: [{{ .role | quote }}]
envFrom:
  - configMapRef:
      name: {{ include "herald.fullname" $root }}
  - secretRef:
      name: {{ include "herald.secretName" $root }}
{{- with $root.Values.extraEnvFrom }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- $roleEnv := .env | default (index $root.Values .role).env }}
{{- if or $roleEnv $root.Values.extraEnv }}
env:
  {{- range $name, $value := $roleEnv }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
  {{- end }}
  {{- with $root.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml (.resources | default (index $root.Values .role).resources) | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- with $root.Values.extraVolumeMounts }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Restart pods when their configuration changes. */}}
{{- define "herald.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}
