"""Nodes: what node-exporter sees on the host (filesystems, memory, clock, conntrack) and what the kubelet
reports to the API server (conditions, pods against the node's limit).

Shapes follow node-mixin and kubernetes-mixin. Thresholds that differ say why next to them.
"""

from __future__ import annotations

from observability import conventions as c
from observability.platform_alerts.alert import KSM, KUBELET, NODE_EXPORTER, NODE_FS, Alert, by, on

_FS = "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.node }}"
_FILES_FREE = f"node_filesystem_files_free{{{NODE_FS}}} / node_filesystem_files{{{NODE_FS}}} * 100"
_WRITABLE = f"node_filesystem_readonly{{{NODE_FS}}} == 0"

HOSTS = (
    Alert(
        name="NodeFilesystemSpaceFillingUp",
        severity=c.TICKET,
        expr=f"""(
  node_filesystem_avail_bytes{{{NODE_FS}}} / node_filesystem_size_bytes{{{NODE_FS}}} * 100 < 40
and
  predict_linear(node_filesystem_avail_bytes{{{NODE_FS}}}[6h], 24 * 60 * 60) < 0
and
  {_WRITABLE}
)""",
        for_="1h",
        summary="A node filesystem is predicted to run out of space within 24 hours.",
        description=(
            f'{_FS} has {{{{ printf "%.1f" $value }}}}% space left and is predicted to fill within 24 hours.'
        ),
    ),
    Alert(
        name="NodeFilesystemAlmostOutOfSpace",
        severity=c.PAGE,
        # Under 15 %: the kubelet's image garbage collection (from 85 % used) has not kept up, and its
        # default hard eviction threshold (nodefs.available < 10 %) is close.
        expr=f"""(
  node_filesystem_avail_bytes{{{NODE_FS}}} / node_filesystem_size_bytes{{{NODE_FS}}} * 100 < 15
and
  {_WRITABLE}
)""",
        for_="15m",
        summary="A node filesystem has less than 15% space left: pod evictions are near.",
        description=(
            f'{_FS} has {{{{ printf "%.1f" $value }}}}% space left. The kubelet evicts pods below 10%.'
        ),
    ),
    # Inodes run out on their own (many small files: container logs, image layers) while bytes are free.
    Alert(
        name="NodeFilesystemFilesFillingUp",
        severity=c.TICKET,
        expr=f"""(
  {_FILES_FREE} < 40
and
  predict_linear(node_filesystem_files_free{{{NODE_FS}}}[6h], 24 * 60 * 60) < 0
and
  {_WRITABLE}
)""",
        for_="1h",
        summary="A node filesystem is predicted to run out of inodes within 24 hours.",
        description=(
            f'{_FS} has {{{{ printf "%.1f" $value }}}}% of its inodes free and is predicted to run out '
            "within 24 hours."
        ),
    ),
    Alert(
        name="NodeFilesystemAlmostOutOfFiles",
        severity=c.PAGE,
        # node-mixin: 5 % (warning) and 3 % (critical) for 1h. The kubelet's default hard eviction
        # threshold for inodes is nodefs.inodesFree < 5 %: page at 10 %, as the space page keeps 5 points
        # above its eviction threshold, and after 15 minutes like it.
        expr=f"(\n  {_FILES_FREE} < 10\nand\n  {_WRITABLE}\n)",
        for_="15m",
        summary="A node filesystem has less than 10% of its inodes free: pod evictions are near.",
        description=(
            f'{_FS} has {{{{ printf "%.1f" $value }}}}% of its inodes free. The kubelet evicts pods below 5%.'
        ),
    ),
    Alert(
        name="NodeMemoryHighUtilization",
        severity=c.TICKET,
        expr=f"""100 * (
  1 - node_memory_MemAvailable_bytes{{{NODE_EXPORTER}}}
    / node_memory_MemTotal_bytes{{{NODE_EXPORTER}}}
) > 90""",
        for_="15m",
        summary="A node is running out of memory.",
        description=(
            'Node {{ $labels.node }} has used {{ printf "%.1f" $value }}% of its memory for 15 minutes: '
            "the kubelet evicts pods or the kernel kills processes next."
        ),
    ),
    # SigV4 (remote write to AMP, ECR pulls, every AWS API call from the node) refuses requests signed more
    # than 5 minutes off; chrony on EKS nodes syncs to the Amazon Time Sync Service (169.254.169.123).
    Alert(
        name="NodeClockSkewDetected",
        severity=c.TICKET,
        expr=f"""(
  node_timex_offset_seconds{{{NODE_EXPORTER}}} > 0.05
and
  deriv(node_timex_offset_seconds{{{NODE_EXPORTER}}}[5m]) >= 0
)
or
(
  node_timex_offset_seconds{{{NODE_EXPORTER}}} < -0.05
and
  deriv(node_timex_offset_seconds{{{NODE_EXPORTER}}}[5m]) <= 0
)""",
        for_="10m",
        summary="A node's clock is off by more than 50 ms and not converging.",
        description=(
            "The clock of node {{ $labels.node }} has been {{ $value | humanizeDuration }} off for 10 "
            "minutes and is not converging: chrony is not synchronising."
        ),
    ),
    # kube-proxy (iptables mode) tracks every connection; when the table is full the kernel drops new
    # connections' packets.
    Alert(
        name="NodeHighNumberConntrackEntriesUsed",
        severity=c.TICKET,
        # node-mixin fires at once; a burst that clears within minutes needs no ticket.
        expr=f"""node_nf_conntrack_entries{{{NODE_EXPORTER}}}
  / node_nf_conntrack_entries_limit{{{NODE_EXPORTER}}}
> 0.75""",
        for_="15m",
        summary="A node's connection tracking table is more than 75% full.",
        description=(
            "Node {{ $labels.node }} has used {{ $value | humanizePercentage }} of its conntrack table for "
            "15 minutes: when it is full, new connections are dropped."
        ),
    ),
)

_NODE_READY = f'kube_node_status_condition{{{KSM}, condition="Ready", status="true"}}'
_SCHEDULABLE = f"kube_node_spec_unschedulable{{{KSM}}} == 0"  # cordoned nodes are being worked on

KUBE_NODES = (
    # The kubelet may still answer scrapes: NotReady is the kubelet's own verdict (its container runtime
    # or network plugin, e.g. the VPC CNI, is not ready) or the node has stopped reporting.
    Alert(
        name="KubeNodeNotReady",
        severity=c.TICKET,
        expr=f"{_NODE_READY} == 0\nand {on('node')}\n{_SCHEDULABLE}",
        for_="15m",
        summary="A node is not ready.",
        description=(
            "Node {{ $labels.node }} has not been Ready for 15 minutes: it takes no new pods, and pods "
            "without a toleration for it were evicted after 5 minutes."
        ),
    ),
    Alert(
        name="KubeNodePressure",
        severity=c.TICKET,
        expr=f"""kube_node_status_condition{{{KSM}, condition=~"MemoryPressure|DiskPressure|PIDPressure", status="true"}} == 1
and {on("node")}
{_SCHEDULABLE}""",  # noqa: E501
        for_="10m",
        summary="A node reports memory, disk or PID pressure: the kubelet is evicting pods.",
        description=(
            "Node {{ $labels.node }} has reported {{ $labels.condition }} for 10 minutes: usage is past the "
            "kubelet's eviction threshold, it evicts pods and admits no new ones that would add to it."
        ),
    ),
    Alert(
        name="KubeNodeReadinessFlapping",
        severity=c.TICKET,
        expr=f"""sum {by("node")} (changes({_NODE_READY}[15m])) > 2
and {on("node")}
{_SCHEDULABLE}""",
        for_="15m",
        summary="A node's readiness keeps changing.",
        description=(
            'The readiness of node {{ $labels.node }} changed {{ printf "%.0f" $value }} times in 15 '
            "minutes: its kubelet keeps losing and regaining its container runtime, its network or the API "
            "server."
        ),
    ),
    # The VPC CNI limits pods per node by the instance's ENIs and IPs (29 on m7i.large, prefix
    # delegation off); the node's allocatable pods carry that limit (max-pods).
    Alert(
        name="KubeletTooManyPods",
        severity=c.TICKET,
        # kubernetes-mixin: the node's capacity; allocatable is what the scheduler honours. `!= 1`: Fargate
        # nodes run one pod each.
        expr=f"""(
  max {by("instance")} (kubelet_running_pods{{{KUBELET}}} > 1)
  * {on("instance")} group_left (node)
  max {by("instance", "node")} (kubelet_node_name{{{KUBELET}}})
)
/ {on("node")} group_left ()
max {by("node")} (kube_node_status_allocatable{{{KSM}, resource="pods"}} != 1)
> 0.95""",
        for_="15m",
        summary="A node runs nearly as many pods as it may.",
        description=(
            "Node {{ $labels.node }} has run {{ $value | humanizePercentage }} of its allocatable pods for "
            "15 minutes: hardly any more pods fit on it."
        ),
    ),
)
