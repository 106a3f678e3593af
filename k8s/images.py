"""Pinned third-party container images. Bump deliberately; the tests refuse `latest` and untagged images."""

POSTGRES_IMAGE = "public.ecr.aws/docker/library/postgres:17.6-bookworm"
POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
