{{/* Names, labels and images shared by the chart's templates. */}}

{{- define "brewery.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's base name: the release name, with the chart name added unless it already holds it. */}}
{{- define "brewery.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The operator's Deployment, ServiceAccount, ClusterRole and metrics Service share this name. */}}
{{- define "brewery.operatorName" -}}
{{- printf "%s-operator" (include "brewery.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "brewery.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "brewery.labels" -}}
helm.sh/chart: {{ include "brewery.chart" . }}
app.kubernetes.io/part-of: brewery
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "brewery.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "brewery.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* brewery.labels plus the operator's name (its selector labels are name and instance). */}}
{{- define "brewery.operatorLabels" -}}
{{ include "brewery.labels" . }}
app.kubernetes.io/name: {{ include "brewery.name" . }}-operator
app.kubernetes.io/component: operator
{{- end }}

{{- define "brewery.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "brewery.operatorName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "brewery.image" -}}
{{- printf "%s:%s" .repository (default .appVersion .tag) }}
{{- end }}

{{- define "brewery.operatorImage" -}}
{{- include "brewery.image" (dict "repository" .Values.operator.image.repository "tag" .Values.operator.image.tag "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The image of trainer pods: the CPU image or the GPU one, by trainer.flavor. */}}
{{- define "brewery.trainerImage" -}}
{{- $repository := ternary .Values.trainer.image.gpuRepository .Values.trainer.image.cpuRepository (eq .Values.trainer.flavor "gpu") }}
{{- include "brewery.image" (dict "repository" $repository "tag" .Values.trainer.image.tag "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* Whether a prometheus-operator object is rendered: "auto" follows the cluster's API. */}}
{{- define "brewery.monitoringEnabled" -}}
{{- $enabled := index . 0 }}{{- $root := index . 1 }}
{{- if eq (toString $enabled) "auto" }}
{{- ternary "true" "" ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
{{- else if $enabled }}true{{- end }}
{{- end }}
