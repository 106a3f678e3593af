"""Pinned third-party container images. Bump deliberately; the tests refuse `latest` and untagged images."""

POSTGRES_IMAGE = "public.ecr.aws/docker/library/postgres:17.6-bookworm"
POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v3.5.0"  # 3.5 is the LTS line
NODE_EXPORTER_IMAGE = "quay.io/prometheus/node-exporter:v1.9.1"
KUBE_STATE_METRICS_IMAGE = "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0"
