{{/* Names and labels ------------------------------------------------------------------------ */}}

{{- define "citylead.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "citylead.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>", within 63 characters. Call with (list $ "api"). */}}
{{- define "citylead.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "citylead.fullname" $root | trunc (int (sub 62 (len (index . 1))))) (index . 1) | trimSuffix "-" -}}
{{- end -}}

{{- define "citylead.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "citylead.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "citylead.selectorLabels" -}}
app.kubernetes.io/name: {{ include "citylead.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component's objects. Call with (list $ "api"). */}}
{{- define "citylead.componentLabels" -}}
{{ include "citylead.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "citylead.componentSelector" -}}
{{ include "citylead.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "citylead.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "citylead.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "citylead.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Settings ------------------------------------------------------------------------------- */}}

{{- define "citylead.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl | trimSuffix "/" -}}
{{- else if and .Values.ingress.enabled .Values.ingress.host -}}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) .Values.ingress.host -}}
{{- else -}}
{{- fail "publicUrl is required (or ingress.enabled with ingress.host): the URL clients use" -}}
{{- end -}}
{{- end -}}

{{- define "citylead.secretName" -}}
{{- default (include "citylead.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* One env var from the Secret. Call with (list $ "CITYLEAD_X" "keyName" optional). */}}
{{- define "citylead.secretEnv" -}}
{{- $root := index . 0 -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "citylead.secretName" $root }}
      key: {{ index $root.Values.secrets.keys (index . 2) }}
      {{- if index . 3 }}
      optional: true
      {{- end }}
{{- end -}}

{{/* The environment of the serving pods (API, dashboard, worker): the ConfigMap, the app role's
URL (as both CITYLEAD_DATABASE_URL and CITYLEAD_APP_DATABASE_URL: these pods never see the owner's
credentials) and S3 keys. Call with (list $ "api"). */}}
{{- define "citylead.appEnv" -}}
{{- $root := index . 0 -}}
{{- include "citylead.secretEnv" (list $root "CITYLEAD_DATABASE_URL" "appDatabaseUrl" false) }}
{{ include "citylead.secretEnv" (list $root "CITYLEAD_APP_DATABASE_URL" "appDatabaseUrl" false) }}
{{- if eq $root.Values.config.blobs.store "s3" }}
{{ include "citylead.secretEnv" (list $root "CITYLEAD_S3_ACCESS_KEY_ID" "s3AccessKeyId" true) }}
{{ include "citylead.secretEnv" (list $root "CITYLEAD_S3_SECRET_ACCESS_KEY" "s3SecretAccessKey" true) }}
{{- end }}
{{- end -}}

{{/* Pods ----------------------------------------------------------------------------------- */}}

{{- define "citylead.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "citylead.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Writable places under a read-only root: /tmp (spooled uploads) and CITYLEAD_HOME. */}}
{{- define "citylead.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: home
  mountPath: {{ .Values.config.home }}
{{- if eq .Values.config.blobs.store "local" }}
- name: blobs
  mountPath: {{ .Values.config.blobs.local.path }}
{{- end }}
{{- end -}}

{{- define "citylead.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
- name: home
  emptyDir:
    sizeLimit: 256Mi
{{- if eq .Values.config.blobs.store "local" }}
- name: blobs
  persistentVolumeClaim:
    claimName: {{ required "config.blobs.local.existingClaim is required with config.blobs.store=local" .Values.config.blobs.local.existingClaim }}
{{- end }}
{{- end -}}

{{/* Scheduling: given values, else (spread: true) zones and nodes. Call with (list $ "api"). */}}
{{- define "citylead.scheduling" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $c := index $root.Values $name -}}
{{- with $c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $c.affinity }}
affinity:
  {{- toYaml $c.affinity | nindent 2 }}
{{- else if $c.spread }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "citylead.componentSelector" (list $root $name) | nindent 14 }}
{{- end }}
{{- if $c.spread }}
topologySpreadConstraints:
  {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
  - maxSkew: 1
    topologyKey: {{ $key }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "citylead.componentSelector" (list $root $name) | nindent 8 }}
  {{- end }}
{{- end }}
{{- end -}}
