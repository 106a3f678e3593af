"""Persistent volumes running out of space or inodes, from the kubelet's volume statistics.

As kubernetes-mixin, one alert name per resource with two severities (the page silences the ticket),
without its two `unless` clauses: ReadOnlyMany claims (EBS volumes are never ReadOnlyMany) and the
`label_excluded_from_alerts` opt-out (it needs `kube_persistentvolumeclaim_labels`, which is not kept: no
Kubernetes label reaches these series). An intentionally full volume is quieted with a silence instead
(docs/runbooks/KubePersistentVolumeFillingUp.md).
"""

from __future__ import annotations

from observability import conventions as c
from observability.platform_alerts.alert import KUBELET, Alert

_PVC = "PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}"
_FOUR_DAYS = "4 * 24 * 60 * 60"


def _stats(name: str) -> str:
    return f"kubelet_volume_stats_{name}{{{KUBELET}}}"


# Volumes that report 0 used (block-mode volumes) report nothing meaningful.
_FREE, _USED = f"{_stats('available_bytes')} / {_stats('capacity_bytes')}", f"{_stats('used_bytes')} > 0"
_INODES_FREE, _INODES_USED = f"{_stats('inodes_free')} / {_stats('inodes')}", f"{_stats('inodes_used')} > 0"

STORAGE = (
    Alert(
        name="KubePersistentVolumeFillingUp",
        severity=c.PAGE,
        expr=f"(\n  {_FREE} < 0.03\nand\n  {_USED}\n)",
        for_="1m",
        summary="A persistent volume is full.",
        description=f"{_PVC} has only {{{{ $value | humanizePercentage }}}} space left.",
    ),
    Alert(
        name="KubePersistentVolumeFillingUp",
        severity=c.TICKET,
        expr=f"""(
  {_FREE} < 0.15
and
  {_USED}
and
  predict_linear({_stats("available_bytes")}[6h], {_FOUR_DAYS}) < 0
)""",
        for_="1h",
        summary="A persistent volume is predicted to fill within four days.",
        description=(
            f"{_PVC} has {{{{ $value | humanizePercentage }}}} space left and is predicted to fill "
            "within four days."
        ),
    ),
    Alert(
        name="KubePersistentVolumeInodesFillingUp",
        severity=c.PAGE,
        expr=f"(\n  {_INODES_FREE} < 0.03\nand\n  {_INODES_USED}\n)",
        for_="1m",
        summary="A persistent volume has no inodes left.",
        description=f"{_PVC} has only {{{{ $value | humanizePercentage }}}} of its inodes free.",
    ),
    Alert(
        name="KubePersistentVolumeInodesFillingUp",
        severity=c.TICKET,
        expr=f"""(
  {_INODES_FREE} < 0.15
and
  {_INODES_USED}
and
  predict_linear({_stats("inodes_free")}[6h], {_FOUR_DAYS}) < 0
)""",
        for_="1h",
        summary="A persistent volume is predicted to run out of inodes within four days.",
        description=(
            f"{_PVC} has {{{{ $value | humanizePercentage }}}} of its inodes free and is predicted to run "
            "out within four days."
        ),
    ),
)
