"""Kubernetes service discovery, emulated: the targets and `__meta_kubernetes_*` labels Prometheus's
`kubernetes_sd_configs` would give for Pod, Endpoints and Node objects (roles pod, endpoints, node).

Follows Prometheus 2.42's discovery/kubernetes (pod.go, endpoints.go, node.go): for role pod, one target
per declared container port (init containers included, flagged), one port-less target per container that
declares none, pod-level labels on all of them; label and annotation names sanitized to `[a-zA-Z0-9_]`.
The targets are written as `file_sd` target groups, so a real Prometheus runs the generated relabeling on
them (`with_file_sd`), and can be rewritten to local addresses (`localize`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Target = dict[str, str]
ADDRESS = "__address__"
META = "__meta_kubernetes_"


def sanitize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _object_labels(prefix: str, metadata: Mapping[str, Any]) -> Target:
    labels: Target = {}
    for kind, field in (("label", "labels"), ("annotation", "annotations")):
        for key, value in (metadata.get(field) or {}).items():
            labels[f"{META}{prefix}_{kind}_{sanitize(key)}"] = str(value)
            labels[f"{META}{prefix}_{kind}present_{sanitize(key)}"] = "true"
    return labels


def _join_host_port(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def pod_labels(pod: Mapping[str, Any]) -> Target:
    """The pod-level labels every target of a pod carries (podLabels in pod.go), namespace excluded."""
    metadata, status = pod["metadata"], pod["status"]
    ready = next(
        (c["status"].lower() for c in status.get("conditions", []) if c["type"] == "Ready"), "unknown"
    )
    labels = {
        f"{META}pod_name": metadata["name"],
        f"{META}pod_ip": status.get("podIP", ""),
        f"{META}pod_ready": ready,
        f"{META}pod_phase": status.get("phase", ""),
        f"{META}pod_node_name": pod["spec"].get("nodeName", ""),
        f"{META}pod_host_ip": status.get("hostIP", ""),
        f"{META}pod_uid": metadata.get("uid", ""),
    }
    controller = next((o for o in metadata.get("ownerReferences", []) if o.get("controller")), None)
    if controller:
        labels[f"{META}pod_controller_kind"] = controller["kind"]
        labels[f"{META}pod_controller_name"] = controller["name"]
    return labels | _object_labels("pod", metadata)


def _containers(pod: Mapping[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    spec = pod["spec"]
    return [(c, False) for c in spec.get("containers", [])] + [
        (c, True) for c in spec.get("initContainers", [])
    ]


def pod_targets(pod: Mapping[str, Any]) -> list[Target]:
    """Role pod: the targets of one pod, each with all its labels (group labels merged in)."""
    ip = pod["status"].get("podIP", "")
    if not ip:  # a pod without an IP (pending, evicted) has no targets
        return []
    group = pod_labels(pod) | {f"{META}namespace": pod["metadata"]["namespace"]}
    targets: list[Target] = []
    for container, init in _containers(pod):
        common = {
            f"{META}pod_container_name": container["name"],
            f"{META}pod_container_init": str(init).lower(),
        }
        if not container.get("ports"):
            targets.append(group | common | {ADDRESS: ip})
            continue
        for port in container["ports"]:
            number = str(port["containerPort"])
            targets.append(
                group
                | common
                | {
                    ADDRESS: _join_host_port(ip, number),
                    f"{META}pod_container_port_name": port.get("name", ""),
                    f"{META}pod_container_port_number": number,
                    f"{META}pod_container_port_protocol": port.get("protocol", "TCP"),
                }
            )
    return targets


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _resolve_target_port(service_port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    target = service_port.get("targetPort", service_port["port"])
    if isinstance(target, int):
        return target
    if str(target).isdigit():
        return int(target)
    for container, _ in _containers(pod):
        for port in container.get("ports", []):
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


def endpoints_for(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Endpoints object the endpoints controller keeps for `service` (selector over `pods`)."""
    namespace = service["metadata"]["namespace"]
    selector = service["spec"].get("selector") or {}
    subsets = []
    for pod in pods:
        if pod["metadata"]["namespace"] != namespace or not _matches(
            selector, pod["metadata"].get("labels", {})
        ):
            continue
        if pod["status"].get("phase") != "Running" or not pod["status"].get("podIP"):
            continue
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
        )
        address = {
            "ip": pod["status"]["podIP"],
            "nodeName": pod["spec"].get("nodeName"),
            "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace},
        }
        ports = []
        for service_port in service["spec"]["ports"]:
            number = _resolve_target_port(service_port, pod)
            if number is not None:
                ports.append({"name": service_port.get("name", ""), "port": number, "protocol": "TCP"})
        subsets.append({"addresses" if ready else "notReadyAddresses": [address], "ports": ports})
    return {
        "kind": "Endpoints",
        "metadata": {"name": service["metadata"]["name"], "namespace": namespace},
        "subsets": subsets,
    }


def endpoints_targets(
    endpoints: Mapping[str, Any], service: Mapping[str, Any] | None, pods: Iterable[Mapping[str, Any]]
) -> list[Target]:
    """Role endpoints (endpoints.go): one target per address and port, pod labels for pod-backed
    addresses, plus one target per container port of those pods that no endpoint port covers."""
    namespace = endpoints["metadata"]["namespace"]
    group: Target = {f"{META}namespace": namespace, f"{META}endpoints_name": endpoints["metadata"]["name"]}
    group |= _object_labels("endpoints", endpoints["metadata"])
    if service is not None:
        group |= {f"{META}service_name": service["metadata"]["name"]} | _object_labels(
            "service", service["metadata"]
        )
    by_name = {p["metadata"]["name"]: p for p in pods if p["metadata"]["namespace"] == namespace}
    targets: list[Target] = []
    seen: dict[str, list[int]] = {}
    for subset in endpoints.get("subsets", []):
        for ready, key in (("true", "addresses"), ("false", "notReadyAddresses")):
            for address in subset.get(key, []):
                for port in subset["ports"]:
                    target = group | {
                        ADDRESS: _join_host_port(address["ip"], port["port"]),
                        f"{META}endpoint_port_name": port.get("name", ""),
                        f"{META}endpoint_port_protocol": port.get("protocol", "TCP"),
                        f"{META}endpoint_ready": ready,
                    }
                    if address.get("nodeName"):
                        target[f"{META}endpoint_node_name"] = address["nodeName"]
                    ref = address.get("targetRef")
                    if ref:
                        target[f"{META}endpoint_address_target_kind"] = ref["kind"]
                        target[f"{META}endpoint_address_target_name"] = ref["name"]
                    pod = by_name.get(ref["name"]) if ref and ref["kind"] == "Pod" else None
                    if pod is None:
                        targets.append(target)
                        continue
                    target |= pod_labels(pod)
                    for container, _ in _containers(pod):
                        match = next(
                            (p for p in container.get("ports", []) if p["containerPort"] == port["port"]),
                            None,
                        )
                        if match:
                            target |= {
                                f"{META}pod_container_name": container["name"],
                                f"{META}pod_container_port_name": match.get("name", ""),
                                f"{META}pod_container_port_number": str(port["port"]),
                                f"{META}pod_container_port_protocol": port.get("protocol", "TCP"),
                            }
                            break
                    seen.setdefault(pod["metadata"]["name"], []).append(port["port"])
                    targets.append(target)
    for pod_name, covered in seen.items():
        pod = by_name[pod_name]
        for container, _ in _containers(pod):
            for port in container.get("ports", []):
                if port["containerPort"] in covered:
                    continue
                targets.append(
                    group
                    | pod_labels(pod)
                    | {
                        ADDRESS: _join_host_port(pod["status"]["podIP"], port["containerPort"]),
                        f"{META}pod_container_name": container["name"],
                        f"{META}pod_container_port_name": port.get("name", ""),
                        f"{META}pod_container_port_number": str(port["containerPort"]),
                        f"{META}pod_container_port_protocol": port.get("protocol", "TCP"),
                    }
                )
    return targets


def node_targets(node: Mapping[str, Any]) -> list[Target]:
    """Role node (node.go): one target per node at its first address and the kubelet's port."""
    addresses = {a["type"]: a["address"] for a in reversed(node["status"]["addresses"])}
    host = next(
        addresses[t]
        for t in ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "Hostname")
        if t in addresses
    )
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    target = {
        ADDRESS: _join_host_port(host, port),
        f"{META}node_name": node["metadata"]["name"],
        f"{META}node_provider_id": node["spec"].get("providerID", ""),
    }
    target |= {f"{META}node_address_{t}": a for t, a in addresses.items()}
    return [target | _object_labels("node", node["metadata"])]


def discover(scrape: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]) -> list[Target]:
    """What a job's `kubernetes_sd_configs` discover among `objects` (Pods, Services, Endpoints, Nodes):
    its role and namespace filter decide, as in the cluster. Services without an Endpoints object in
    `objects` get the one the endpoints controller would maintain."""
    objects = list(objects)
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    pods = by_kind.get("Pod", [])
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in by_kind.get("Service", [])}
    endpoints = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in by_kind.get("Endpoints", [])}
    for key, service in services.items():
        endpoints.setdefault(key, endpoints_for(service, pods))
    targets: list[Target] = []
    for config in scrape.get("kubernetes_sd_configs", []):
        allowed = config.get("namespaces", {}).get("names")

        def visible(namespace: str, allowed: list[str] | None = allowed) -> bool:
            return allowed is None or namespace in allowed

        if config["role"] == "pod":
            targets += [t for p in pods if visible(p["metadata"]["namespace"]) for t in pod_targets(p)]
        elif config["role"] == "endpoints":
            for (namespace, name), ep in sorted(endpoints.items()):
                if visible(namespace):
                    targets += endpoints_targets(ep, services.get((namespace, name)), pods)
        elif config["role"] == "node":
            targets += [t for n in by_kind.get("Node", []) for t in node_targets(n)]
        else:
            raise NotImplementedError(config["role"])
    return targets


# --- local runs ------------------------------------------------------------------------------------------
PORT_LABELS = (
    f"{META}pod_container_port_number",
    f"{META}pod_annotation_prometheus_io_port",
    f"{META}service_annotation_prometheus_io_port",
)
IP_LABELS = (f"{META}pod_ip", f"{META}pod_host_ip")


def localize(
    targets: Iterable[Target],
    ports: Mapping[int, int],
    host: str = "127.0.0.1",
    hosts: Mapping[str, str] | None = None,
) -> list[Target]:
    """The same targets pointed at local processes, for a real Prometheus on this machine.

    Every IP becomes `host` (or `hosts[ip]`, to keep distinct addresses distinct on 127.0.0.0/8) and
    every port found in `ports` (manifest port -> local port) is
    replaced wherever it appears: the address, the declared container port and the `prometheus.io/port`
    annotation. Relations the relabeling relies on (which annotation names which declared port, which
    port names exist, every other label) are untouched, so the generated rules decide exactly as they
    would in the cluster; only where the scrape goes differs. The mapping must be one-to-one and every
    port in a target must be mapped, so no target silently keeps a cluster port.
    """
    if len(set(ports.values())) != len(ports):
        raise ValueError(f"port mapping is not one-to-one: {dict(ports)}")

    def port(value: str) -> str:
        if not value.isdigit():
            return value
        if int(value) not in ports:
            raise KeyError(f"no local port for manifest port {value}")
        return str(ports[int(value)])

    def ip(value: str) -> str:
        return (hosts or {}).get(value.strip("[]"), host)

    result = []
    for target in targets:
        local = dict(target)
        address = local[ADDRESS]
        if address.startswith("[") or address.count(":") == 1:  # host:port or [IPv6]:port
            address_host, _, address_port = address.rpartition(":")
            local[ADDRESS] = f"{ip(address_host)}:{port(address_port)}"
        else:  # a bare IP: a container that declares no port
            local[ADDRESS] = ip(address)
        for name in PORT_LABELS:
            if name in local:
                local[name] = port(local[name])
        for name in IP_LABELS:
            if local.get(name):
                local[name] = ip(local[name])
        result.append(local)
    return result


def target_ips(targets: Iterable[Target]) -> set[str]:
    """Every IP the targets mention (addresses and pod IPs)."""
    ips = set()
    for target in targets:
        address = target[ADDRESS]
        ips.add(
            address.rpartition(":")[0].strip("[]")
            if address.startswith("[") or address.count(":") == 1
            else address
        )
        for name in IP_LABELS:
            if target.get(name):
                ips.add(target[name])
    return ips


def write_file_sd(path: Path, targets: Iterable[Target]) -> None:
    """A file_sd target file: one group per target, its labels as the group's labels."""
    groups = [
        {"targets": [t[ADDRESS]], "labels": {k: v for k, v in sorted(t.items()) if k != ADDRESS}}
        for t in targets
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups, indent=1))
    tmp.rename(path)  # atomic: Prometheus never reads a half-written file
