"""Optional digests that pin the third-party images whose tags live in `k8s/images.py`.

A tag can be moved to other content; a digest cannot. Only a digest read from the registry you pull from
belongs here (see docs/versions.md, "Pinning image digests"): none is shipped, so by default images run by
tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The stable keys of `k8s.images.TAGGED_IMAGES`, one per image.
IMAGE_KEYS = ("postgres", "postgres-exporter", "prometheus", "node-exporter", "kube-state-metrics")
# OCI image spec (descriptor.md, "Digests"): for sha256 the encoded part is 64 lowercase hex digits.
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def image_digest_problems(digests: Mapping[str, str]) -> list[str]:
    """One line per unknown image key or malformed digest, naming the field `image_digests`."""
    problems = []
    for key, digest in digests.items():
        if key not in IMAGE_KEYS:
            problems.append(f"image_digests: keys must be one of {list(IMAGE_KEYS)} (got {key!r})")
        elif not isinstance(digest, str) or not _DIGEST.match(digest):
            problems.append(
                f"image_digests: {key} must be 'sha256:' and 64 lowercase hex digits (got {digest!r})"
            )
    return problems
