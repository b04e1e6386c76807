{{- define "checkout.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "checkout.labels" -}}
{{ include "checkout.selector" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "checkout.image" -}}
{{- $digest := required "image.digest is required: images are deployed by digest only" .Values.image.digest -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $digest) -}}
{{- fail (printf "image.digest must be sha256:<64 hex digits> (got %s)" $digest) -}}
{{- end -}}
{{ required "image.repository is required" .Values.image.repository }}@{{ $digest }}
{{- end -}}
