{{/* Names: <release>-agent, <release>-gateway. */}}
{{- define "cc.agent" -}}{{ printf "%s-agent" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "cc.gateway" -}}{{ printf "%s-gateway" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "cc.serviceAccount" -}}{{ default (include "cc.agent" .) .Values.serviceAccount.name }}{{- end }}
{{- define "cc.agentSecret" -}}{{ default (printf "%s-agent-tls" .Release.Name) .Values.tls.agentSecret }}{{- end }}
{{- define "cc.gatewaySecret" -}}{{ default (printf "%s-gateway-tls" .Release.Name) .Values.tls.gatewaySecret }}{{- end }}
{{- define "cc.gatewayServerName" -}}{{ default (printf "%s.%s.svc" (include "cc.gateway" .) .Release.Namespace) .Values.gateway.serverName }}{{- end }}
{{- define "cc.image" -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end }}

{{- define "cc.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "cc.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
GOMEMLIMIT at 80% of the container's memory limit (Mi or Gi), so the Go runtime collects before the
kernel kills; memory_limiter (80%) refuses data before that.
*/}}
{{- define "cc.gomemlimit" -}}
{{- $l := toString . -}}
{{- if hasSuffix "Gi" $l -}}{{ div (mul (trimSuffix "Gi" $l | atoi) 1024 80) 100 }}MiB
{{- else if hasSuffix "Mi" $l -}}{{ div (mul (trimSuffix "Mi" $l | atoi) 80) 100 }}MiB
{{- else -}}{{ fail (printf "resources.limits.memory %q: write it in Mi or Gi" $l) }}
{{- end -}}
{{- end }}

{{/* The standard OTLP exporter variables for the backend; the embedded provider reads them. */}}
{{- define "cc.backendEnv" -}}
{{- with .Values.backend }}
{{- if .endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
- name: OTEL_EXPORTER_OTLP_INSECURE
  value: {{ .insecure | quote }}
{{- if .compression }}
- name: OTEL_EXPORTER_OTLP_COMPRESSION
  value: {{ .compression | quote }}
{{- end }}
{{- if .headersSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef: {name: {{ .headersSecret }}, key: OTEL_EXPORTER_OTLP_HEADERS}
{{- end }}
{{- if .caSecret }}
- name: OTEL_EXPORTER_OTLP_CERTIFICATE
  value: /etc/otelcol-cryptochain/backend-ca/ca.crt
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment every collector pod gets: node name, pod IP, GOMEMLIMIT. */}}
{{- define "cc.podEnv" -}}
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef: {fieldPath: spec.nodeName}
- name: POD_IP
  valueFrom:
    fieldRef: {fieldPath: status.podIP}
- name: GOMEMLIMIT
  value: {{ include "cc.gomemlimit" .resources.limits.memory | quote }}
{{- end }}

{{/*
What every collector of the chart adds to its configuration: the health check and its own metrics on
the pod IP (probes, scraping), memory_limiter relative to the container's limit.
*/}}
{{- define "cc.common" -}}
extensions:
  health_check:
    endpoint: ${env:POD_IP}:{{ .Values.ports.health }}
processors:
  memory_limiter:
    # Percentages of the container's memory limit replace the embedded configs' fixed MiB.
    check_interval: 1s
    limit_mib: 0
    spike_limit_mib: 0
    limit_percentage: 80
    spike_limit_percentage: 20
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: ${env:POD_IP}
                port: {{ .Values.ports.metrics }}
                # The same metric names as the embedded configs (otelcol_ebpf_events_lost, no _total).
                without_scope_info: true
                without_units: true
                without_type_suffix: true
{{- end }}

{{/* The config file of one component: its own YAML, the common part, then the user's map. */}}
{{/* The receiver's pod and image lookups, in the paths the agent DaemonSet mounts them at. */}}
{{- define "cc.workload" -}}
receivers:
  ebpf:
    workload:
      {{- if .Values.agent.workloadMetadata.enabled }}
      pods_dir: /host/var/log/pods
      runtime_state: true
      {{- else }}
      pods_dir: ""
      runtime_state: false
      {{- end }}
{{- end }}

{{- define "cc.configFile" -}}
{{- $conf := fromYaml .own }}
{{- $conf = mustMergeOverwrite $conf (fromYaml (include "cc.common" .root)) (deepCopy .user) }}
{{- toYaml $conf }}
{{- end }}

{{- define "cc.probes" -}}
startupProbe:
  # Loading the eBPF programs and the procfs snapshot take a few seconds on a busy node.
  httpGet: {path: /, port: health}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /, port: health}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /, port: health}
  periodSeconds: 5
{{- end }}

{{/* How agents find the gateways: fixed addresses, or the gateway Service's EndpointSlices. */}}
{{- define "cc.resolver" -}}
{{- if .Values.gateway.endpoints }}
static:
  hostnames: {{ toJson .Values.gateway.endpoints }}
{{- else }}
k8s:
  service: {{ include "cc.gateway" . }}.{{ .Release.Namespace }}
  ports: [{{ .Values.ports.otlp }}]
{{- end }}
{{- end }}
