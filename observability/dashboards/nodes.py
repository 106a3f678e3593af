"""Nodes (USE): utilisation, saturation and errors of CPU, memory, disks and network per node, with the
limits that fail a node quietly (inodes, conntrack, file descriptors, clock) and the kubelet's view."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel

UID = "eks-obs-nodes"
_NODE = "{{node}}"
_NET = {"device": "!lo"}


def _ratio(used: str, total: str) -> tuple[str, str]:
    return (f"{sel(used)} / {sel(total)}", _NODE)


def _per_node(name: str) -> tuple[str, str]:
    return (by("node", rate(name)), _NODE)


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Nodes (USE)", ds=ds, description=__doc__ or "")
    cpus = by("node", sel("node_cpu_seconds_total", mode="idle"), "count")
    memory_used = (
        f"1 - {sel('node_memory_MemAvailable_bytes')} / {sel('node_memory_MemTotal_bytes')}",
        _NODE,
    )
    board = section(
        board,
        "CPU and memory",
        ds,
        graph(
            "CPU utilisation",
            "percentunit",
            (f"1 - {by('node', rate('node_cpu_seconds_total', mode='idle'), 'avg')}", _NODE),
        ),
        graph("Load per CPU (1m)", "short", (f"{sel('node_load1')} / on (node) {cpus}", _NODE)),
        graph(
            "Load average (1m, 5m, 15m)",
            "short",
            (sel("node_load1"), "{{node}} 1m"),
            (sel("node_load5"), "{{node}} 5m"),
            (sel("node_load15"), "{{node}} 15m"),
        ),
        graph("Memory utilisation", "percentunit", memory_used),
        graph(
            "Memory free, buffers, page cache",
            "bytes",
            (sel("node_memory_MemFree_bytes"), "{{node}} free"),
            (sel("node_memory_Buffers_bytes"), "{{node}} buffers"),
            (sel("node_memory_Cached_bytes"), "{{node}} cached"),
        ),
        graph("Major page faults", "ops", _per_node("node_vmstat_pgmajfault")),
    )
    board = section(
        board,
        "Disks and network",
        ds,
        graph("Disk busy (utilisation)", "percentunit", _per_node("node_disk_io_time_seconds_total")),
        graph("Disk queue (saturation)", "short", _per_node("node_disk_io_time_weighted_seconds_total")),
        graph(
            "Disk throughput",
            "Bps",
            (by("node", rate("node_disk_read_bytes_total")), "{{node}} read"),
            (by("node", rate("node_disk_written_bytes_total")), "{{node}} written"),
        ),
        graph(
            "Network throughput",
            "Bps",
            (by("node", rate("node_network_receive_bytes_total", **_NET)), "{{node}} received"),
            (by("node", rate("node_network_transmit_bytes_total", **_NET)), "{{node}} sent"),
        ),
        graph(
            "Network errors and drops",
            "pps",
            # Four series per node: each legend says which, or they would all read "<node>".
            (by("node", rate("node_network_receive_errs_total", **_NET)), "{{node}} receive errors"),
            (by("node", rate("node_network_transmit_errs_total", **_NET)), "{{node}} transmit errors"),
            (by("node", rate("node_network_receive_drop_total", **_NET)), "{{node}} receive drops"),
            (by("node", rate("node_network_transmit_drop_total", **_NET)), "{{node}} transmit drops"),
        ),
    )
    inodes = (
        f"1 - {sel('node_filesystem_files_free')} / {sel('node_filesystem_files')}",
        "{{node}} {{mountpoint}}",
    )
    board = section(
        board,
        "Limits and clock",
        ds,
        graph("Filesystem inodes used", "percentunit", inodes),
        graph(
            "Conntrack entries used",
            "percentunit",
            _ratio("node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"),
        ),
        graph("File descriptors used", "percentunit", _ratio("node_filefd_allocated", "node_filefd_maximum")),
        graph(
            "Clock offset and sync",
            "s",
            (sel("node_timex_offset_seconds"), "{{node}} offset"),
            (sel("node_timex_sync_status"), "{{node}} synchronised (1)"),
        ),
        listing("Kernel versions", sel("node_uname_info")),
    )
    pleg = rate("kubelet_pleg_relist_duration_seconds_bucket")
    pleg_mean = (
        f"{by('node', rate('kubelet_pleg_relist_duration_seconds_sum'))}"
        f" / {by('node', rate('kubelet_pleg_relist_duration_seconds_count'))}"
    )
    board = section(
        board,
        "Kubelet and volumes",
        ds,
        graph("Kubelets", "short", (f"count({sel('kubelet_node_name')})", "kubelets")),
        graph(
            "Running pods and containers",
            "short",
            (sel("kubelet_running_pods"), "{{node}} pods"),
            (by("node", sel("kubelet_running_containers")), "{{node}} containers"),
        ),
        graph(
            "Pod lifecycle events: relist p99 and mean",
            "s",
            (f"histogram_quantile(0.99, {by('node, le', pleg)})", "{{node}} p99"),
            (pleg_mean, "{{node}} mean"),
        ),
        graph(
            "Volume inodes used",
            "percentunit",
            (
                f"{sel('kubelet_volume_stats_inodes_used')} / {sel('kubelet_volume_stats_inodes')}",
                "{{persistentvolumeclaim}}",
            ),
        ),
        graph(
            "Volume inodes free",
            "short",
            (sel("kubelet_volume_stats_inodes_free"), "{{persistentvolumeclaim}}"),
        ),
    )
    return model(board)
