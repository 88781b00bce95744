{{/* Names. */}}
{{- define "kefu.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kefu.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kefu.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kefu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selectorLabels: call with (list . "component"). */}}
{{- define "kefu.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "kefu.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "kefu.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "kefu.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "kefu.fullname" .) -}}
{{- end -}}

{{/* The gateways run as a StatefulSet (stable node ids gw1..gwN, the
     server names of haproxy.cfg) with the bundled HAProxy, else as a
     Deployment. */}}
{{- define "kefu.gateway.kind" -}}
{{- if .Values.haproxy.enabled -}}StatefulSet{{- else -}}Deployment{{- end -}}
{{- end -}}

{{/* The most gateway pods there can be. */}}
{{- define "kefu.gateway.maxReplicas" -}}
{{- if .Values.gateway.autoscaling.enabled -}}
{{- max (int .Values.gateway.autoscaling.maxReplicas) (int .Values.gateway.replicas) -}}
{{- else -}}
{{- int .Values.gateway.replicas -}}
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds of a gateway pod: the drain, then the
     shutdown, plus a margin; at least 30. */}}
{{- define "kefu.gateway.grace" -}}
{{- $d := .Values.gateway.drain -}}
{{- max 30 (add (int $d.delaySeconds) (int $d.shutdownSeconds) (int $d.graceMarginSeconds)) -}}
{{- end -}}

{{- define "kefu.publicURL" -}}
{{- if .Values.gateway.publicURL -}}
{{- .Values.gateway.publicURL -}}
{{- else if and .Values.ingress.enabled .Values.ingress.host -}}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* Environment every Kefu container gets from the ConfigMap and Secret. */}}
{{- define "kefu.envFrom" -}}
- configMapRef:
    name: {{ include "kefu.fullname" . }}
- secretRef:
    name: {{ include "kefu.secretName" . }}
{{- end -}}

{{- define "kefu.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kefu.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "kefu.mysqlSecretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-mysql" (include "kefu.fullname" .) -}}
{{- end -}}
{{- end -}}
