{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "tollgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects. */}}
{{- define "tollgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.labels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "tollgate.operatorSelector" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "tollgate.serviceAccountName" -}}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "tollgate.operatorImage" -}}
{{- printf "%s:%s" .Values.operator.image.repository (default .Chart.AppVersion .Values.operator.image.tag) -}}
{{- end -}}

{{- define "tollgate.sidecarImage" -}}
{{- printf "%s:%s" .Values.sidecar.image.repository (default .Chart.AppVersion .Values.sidecar.image.tag) -}}
{{- end -}}

{{- define "tollgate.webhookService" -}}
{{- printf "%s-webhook" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tollgate.webhookConfiguration" -}}
{{- printf "%s-sidecar-injector" (include "tollgate.fullname" .) -}}
{{- end -}}

{{- define "tollgate.webhookCertSecret" -}}
{{- printf "%s-webhook-tls" (include "tollgate.fullname" .) -}}
{{- end -}}
