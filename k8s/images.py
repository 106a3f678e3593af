"""Pinned third-party container images. Bump deliberately; the tests refuse `latest` and untagged images.

Tags only: a digest is never written here unless read from a published source. Environments may pin one
per image with `PlatformConfig.image_digests` (see `config/images.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

POSTGRES_IMAGE = "public.ecr.aws/docker/library/postgres:17.6-bookworm"
POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v3.13.5"  # the 3.13 LTS line (docs/versions.md)
NODE_EXPORTER_IMAGE = "quay.io/prometheus/node-exporter:v1.12.1"  # newest release (docs/versions.md)
KUBE_STATE_METRICS_IMAGE = "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.1"

# By the keys of `config.images.IMAGE_KEYS`.
TAGGED_IMAGES = {
    "postgres": POSTGRES_IMAGE,
    "postgres-exporter": POSTGRES_EXPORTER_IMAGE,
    "prometheus": PROMETHEUS_IMAGE,
    "node-exporter": NODE_EXPORTER_IMAGE,
    "kube-state-metrics": KUBE_STATE_METRICS_IMAGE,
}


def image_reference(key: str, digests: Mapping[str, str]) -> str:
    """`repo:tag@sha256:...` when the environment pins a digest for `key`, else `repo:tag`.

    The digest selects the content (Docker ignores the tag when both are given); the tag stays for readers.
    """
    digest = digests.get(key)
    return f"{TAGGED_IMAGES[key]}@{digest}" if digest else TAGGED_IMAGES[key]
