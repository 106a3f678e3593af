"""Kubernetes service discovery, emulated: the targets and `__meta_kubernetes_*` labels Prometheus's
`kubernetes_sd_configs` would give for Pod, EndpointSlice and Node objects (roles pod, endpointslice,
node).

Follows Prometheus 2.42's discovery/kubernetes (pod.go, endpointslice.go, node.go): for role pod, one
target per declared container port (init containers included, flagged), one port-less target per
container that declares none, pod-level labels on all of them; for role endpointslice, one target per
endpoint address and slice port with the slice's, its service's and (for Pod endpoints) the pod's labels,
plus the pods' container ports no slice port covers; label and annotation names sanitized to
`[a-zA-Z0-9_]`. Services get the EndpointSlices the controller would keep for them (`endpoint_slices_for`)
unless the objects include their slices.
The targets are written as `file_sd` target groups, so a real Prometheus runs the generated relabeling on
them (`with_file_sd`), and can be rewritten to local addresses (`localize`).
"""

from __future__ import annotations

import hashlib
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


def _endpoint_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The slice ports for `pod` (getEndpointPorts): each service port whose target port the pod resolves
    (a named target port is looked up among the pod's containers' ports, same protocol)."""
    ports = []
    for service_port in service["spec"]["ports"]:
        protocol = service_port.get("protocol", "TCP")
        target = service_port.get("targetPort", service_port["port"])
        number: int | None = None
        if isinstance(target, int) or str(target).isdigit():
            number = int(target)
        else:
            number = next(
                (
                    int(p["containerPort"])
                    for c in pod["spec"].get("containers", [])
                    for p in c.get("ports", [])
                    if p.get("name") == target and p.get("protocol", "TCP") == protocol
                ),
                None,
            )
        if number is None:
            continue  # the controller skips a port the pod does not resolve
        port = {"name": service_port.get("name", ""), "port": number, "protocol": protocol}
        if "appProtocol" in service_port:
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def _random5(name: str, index: int) -> str:
    return hashlib.sha256(f"{name}/{index}".encode()).hexdigest()[:5]


def endpoint_slices_for(
    service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], nodes: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The EndpointSlices the EndpointSlice controller keeps for `service` (selector over `pods`): one per
    address type and set of resolved ports, labelled with the service's labels, its name and the
    controller. Pods in a terminal phase or without an IP are left out; terminating pods are kept, with
    `terminating: true` and `ready: false`. Unlike the controller, pods on a Node missing from `nodes`
    are kept (without `zone`), so tests need not list every Node."""
    namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
    selector = service["spec"].get("selector") or {}
    publish_not_ready = bool(service["spec"].get("publishNotReadyAddresses"))
    zones = {
        n["metadata"]["name"]: n["metadata"].get("labels", {}).get("topology.kubernetes.io/zone")
        for n in nodes
    }
    groups: dict[tuple[str, str], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for pod in pods:
        if pod["metadata"]["namespace"] != namespace or not _matches(
            selector, pod["metadata"].get("labels", {})
        ):
            continue
        ip = pod["status"].get("podIP")
        if pod["status"].get("phase") in ("Succeeded", "Failed") or not ip:
            continue
        terminating = pod["metadata"].get("deletionTimestamp") is not None
        serving = any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
        )
        endpoint: dict[str, Any] = {
            "addresses": [ip],
            "conditions": {
                "ready": publish_not_ready or (serving and not terminating),
                "serving": serving,
                "terminating": terminating,
            },
            "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace},
        }
        spec = pod["spec"]
        if spec.get("hostname") and spec.get("subdomain") == name:
            endpoint["hostname"] = spec["hostname"]
        if spec.get("nodeName"):
            endpoint["nodeName"] = spec["nodeName"]
            if zones.get(spec["nodeName"]):
                endpoint["zone"] = zones[spec["nodeName"]]
        ports = _endpoint_ports(service, pod)
        address_type = "IPv6" if ":" in ip else "IPv4"
        groups.setdefault((address_type, json.dumps(ports)), (ports, []))[1].append(endpoint)
    labels = dict(service["metadata"].get("labels") or {})
    labels |= {
        "kubernetes.io/service-name": name,
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    if service["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    return [
        {
            "kind": "EndpointSlice",
            # The controller's generateName: `<service>-` and five random characters.
            "metadata": {"name": f"{name}-{_random5(name, i)}", "namespace": namespace, "labels": labels},
            "addressType": address_type,
            "ports": ports,
            "endpoints": endpoints,
        }
        for i, ((address_type, _), (ports, endpoints)) in enumerate(sorted(groups.items()))
    ]


def _container_port_labels(container: Mapping[str, Any], port: Mapping[str, Any]) -> Target:
    return {
        f"{META}pod_container_name": container["name"],
        f"{META}pod_container_image": container.get("image", ""),
        f"{META}pod_container_port_name": port.get("name", ""),
        f"{META}pod_container_port_number": str(port["containerPort"]),
        f"{META}pod_container_port_protocol": port.get("protocol", "TCP"),
    }


def endpoint_slice_targets(
    slice_: Mapping[str, Any], service: Mapping[str, Any] | None, pods: Iterable[Mapping[str, Any]]
) -> list[Target]:
    """Role endpointslice (buildEndpointSlice in endpointslice.go): one target per endpoint, port and
    address (in that nesting), pod labels for endpoints whose targetRef is a known Pod, plus one target per
    container port of those pods that no slice port covers. Slice, service and namespace labels on all."""
    metadata = slice_["metadata"]
    namespace = metadata["namespace"]
    group: Target = {
        f"{META}namespace": namespace,
        f"{META}endpointslice_address_type": slice_["addressType"],
        f"{META}endpointslice_name": metadata["name"],
    }
    group |= _object_labels("endpointslice", metadata)
    # The service is the one named by the slice's kubernetes.io/service-name label, if it exists.
    if service is not None:
        group |= {f"{META}service_name": service["metadata"]["name"]} | _object_labels(
            "service", service["metadata"]
        )
    by_name = {p["metadata"]["name"]: p for p in pods if p["metadata"]["namespace"] == namespace}
    targets: list[Target] = []
    seen: dict[str, list[int | None]] = {}
    for endpoint in slice_.get("endpoints", []):
        for port in slice_.get("ports", []):
            number = port.get("port")
            for address in endpoint["addresses"]:
                target: Target = {ADDRESS: address if number is None else _join_host_port(address, number)}
                if port.get("name") is not None:
                    target[f"{META}endpointslice_port_name"] = port["name"]
                if port.get("protocol") is not None:
                    target[f"{META}endpointslice_port_protocol"] = port["protocol"]
                if number is not None:
                    target[f"{META}endpointslice_port"] = str(number)
                if port.get("appProtocol") is not None:
                    target[f"{META}endpointslice_port_app_protocol"] = port["appProtocol"]
                conditions = endpoint.get("conditions", {})
                for condition in ("ready", "serving", "terminating"):
                    if conditions.get(condition) is not None:
                        value = str(conditions[condition]).lower()
                        target[f"{META}endpointslice_endpoint_conditions_{condition}"] = value
                if endpoint.get("hostname") is not None:
                    target[f"{META}endpointslice_endpoint_hostname"] = endpoint["hostname"]
                ref = endpoint.get("targetRef")
                if ref is not None:
                    target[f"{META}endpointslice_address_target_kind"] = ref["kind"]
                    target[f"{META}endpointslice_address_target_name"] = ref["name"]
                # v1 slices have no deprecatedTopology from the controller: no topology labels. Node
                # name and zone become labels only in later Prometheus versions (2.5x).
                pod = by_name.get(ref["name"]) if ref and ref["kind"] == "Pod" else None
                if pod is None:
                    targets.append(group | target)
                    continue
                seen.setdefault(pod["metadata"]["name"], []).append(number)
                target |= pod_labels(pod)
                # The first port of each container (not init containers) with the slice port's number.
                for container in pod["spec"].get("containers", []):
                    match = next(
                        (p for p in container.get("ports", []) if number == p["containerPort"]), None
                    )
                    if match:
                        target |= _container_port_labels(container, match)
                targets.append(group | target)
    for pod_name, covered in seen.items():
        pod = by_name[pod_name]
        if not pod["status"].get("podIP"):
            continue
        for container in pod["spec"].get("containers", []):
            for port in container.get("ports", []):
                if port["containerPort"] in covered:
                    continue
                targets.append(
                    group
                    | pod_labels(pod)
                    | _container_port_labels(container, port)
                    | {ADDRESS: _join_host_port(pod["status"]["podIP"], port["containerPort"])}
                )
    return targets


def node_targets(node: Mapping[str, Any]) -> list[Target]:
    """Role node (node.go): one target per node at its first address and the kubelet's port, its
    `instance` the node's name (node.go sets it, as the role's documentation says)."""
    addresses = {a["type"]: a["address"] for a in reversed(node["status"]["addresses"])}
    host = next(
        addresses[t]
        for t in ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "Hostname")
        if t in addresses
    )
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    target = {
        ADDRESS: _join_host_port(host, port),
        "instance": node["metadata"]["name"],
        f"{META}node_name": node["metadata"]["name"],
        f"{META}node_provider_id": node["spec"].get("providerID", ""),
    }
    target |= {f"{META}node_address_{t}": a for t, a in addresses.items()}
    return [target | _object_labels("node", node["metadata"])]


SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def discover(scrape: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]) -> list[Target]:
    """What a job's `kubernetes_sd_configs` discover among `objects` (Pods, Services, EndpointSlices,
    Nodes): its role and namespace filter decide, as in the cluster. Services without an EndpointSlice in
    `objects` get the ones the EndpointSlice controller would maintain."""
    objects = list(objects)
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    pods, nodes = by_kind.get("Pod", []), by_kind.get("Node", [])
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in by_kind.get("Service", [])}
    slices = list(by_kind.get("EndpointSlice", []))

    def service_of(slice_: Mapping[str, Any]) -> tuple[str, str] | None:
        name = (slice_["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        return None if name is None else (slice_["metadata"]["namespace"], name)

    given = {service_of(s) for s in slices}
    for key, service in services.items():
        if key not in given:
            slices += endpoint_slices_for(service, pods, nodes)
    targets: list[Target] = []
    for config in scrape.get("kubernetes_sd_configs", []):
        allowed = config.get("namespaces", {}).get("names")

        def visible(namespace: str, allowed: list[str] | None = allowed) -> bool:
            return allowed is None or namespace in allowed

        if config["role"] == "pod":
            targets += [t for p in pods if visible(p["metadata"]["namespace"]) for t in pod_targets(p)]
        elif config["role"] == "endpointslice":
            for slice_ in sorted(slices, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
                if visible(slice_["metadata"]["namespace"]):
                    owner = service_of(slice_)
                    targets += endpoint_slice_targets(slice_, services.get(owner) if owner else None, pods)
        elif config["role"] == "node":
            targets += [t for n in nodes for t in node_targets(n)]
        else:
            raise NotImplementedError(config["role"])
    return targets


# --- local runs ------------------------------------------------------------------------------------------
PORT_LABELS = (
    f"{META}pod_container_port_number",
    f"{META}endpointslice_port",
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
