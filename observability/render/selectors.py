"""A job table row's target selection (observability.jobs.Targets) as Kubernetes discovery and target
relabel rules: which discovered targets a job keeps, and the target labels it gives them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from observability import names
from observability.jobs import JOB_TABLE, OptIn, Role, ScrapeJob, Targets
from observability.render.relabel import (
    CONTAINER_INIT,
    CONTAINER_NAME,
    ENDPOINTSLICE_PORT,
    ENDPOINTSLICE_PORT_NAME,
    ENDPOINTSLICE_READY,
    ENDPOINTSLICE_TERMINATING,
    NAMESPACE,
    NODE_NAME,
    POD_IP,
    POD_NAME,
    POD_NAME_LABEL,
    POD_NODE,
    POD_PHASE,
    PORT_NAME,
    PORT_NUMBER,
    SERVICE_NAME,
    TMP_PORT,
    Rule,
    annotation,
    keep_equal,
    meta,
    replace,
    select,
)

SCRAPE_ANNOTATIONS = (
    names.SCRAPE_ANNOTATION,
    names.SCRAPE_PORT_ANNOTATION,
    names.SCRAPE_PATH_ANNOTATION,
    names.SCRAPE_SCHEME_ANNOTATION,
)

_NOT_RUNNING = select("drop", [POD_PHASE], "Succeeded|Failed")  # finished pods serve nothing


def kubernetes_sd(targets: Targets) -> list[dict[str, Any]]:
    sd: dict[str, Any] = {"role": str(targets.role)}
    if targets.namespace:
        sd["namespaces"] = {"names": [targets.namespace]}
    return [sd]


def relabel_configs(job: ScrapeJob, jobs: Sequence[ScrapeJob] = JOB_TABLE) -> list[Rule]:
    """`jobs`: every job of the agent; the generic ones skip the pods the dedicated ones scrape."""
    targets = job.targets
    if targets.role is Role.NODE:
        return [replace(NODE_NAME, "node")]
    if targets.service is not None:
        return _service(targets)
    if targets.selected_pod_labels():
        return _dedicated_pods(targets, own_labels=not job.honor_labels)
    if targets.opt_in is OptIn.POD:
        return _opted_in_pods(_skip_dedicated(jobs))
    if targets.opt_in is OptIn.SERVICE:
        return _opted_in_service_endpoints(_skip_dedicated(jobs))
    raise ValueError(f"{job.name}: no target selection for {targets}")


def _escape(value: str) -> str:
    """A label value as a literal in a relabel regex (RE2): its metacharacters escaped (`.` mostly)."""
    return re.sub(r"([.\\+*?()|\[\]{}^$])", r"\\\1", value)


def _pod_label(key: str) -> str:
    return f"__meta_kubernetes_pod_label_{meta(key)}"


def _skip_dedicated(jobs: Sequence[ScrapeJob]) -> list[Rule]:
    """Drop the pods a dedicated job scrapes, even if annotated (the platform's agents, every service):
    one rule for all jobs that select by `app.kubernetes.io/name`, one per other selector."""
    by_name = [job.targets for job in jobs if job.targets.app is not None]
    rules = [select("drop", [NAMESPACE, POD_NAME_LABEL], "|".join(f"{t.namespace};{t.app}" for t in by_name))]
    for job in jobs:
        labels = job.targets.pod_labels
        if labels:
            keys = sorted(labels)
            values = ";".join(_escape(labels[key]) for key in keys)
            sources = [NAMESPACE, *map(_pod_label, keys)]
            rules.append(select("drop", sources, f"{job.targets.namespace};{values}"))
    return rules


def _workload_labels(*, container: bool = True) -> list[Rule]:
    rules = [replace(NAMESPACE, "namespace"), replace(POD_NAME, "pod"), replace(POD_NODE, "node")]
    if container:
        rules.append(replace(CONTAINER_NAME, "container"))
    return rules


def _service(targets: Targets) -> list[Rule]:
    """The endpoints of one Service, on its named port."""
    selector = f"{targets.namespace};{targets.service};{targets.port}"
    return [
        select("keep", [NAMESPACE, SERVICE_NAME, ENDPOINTSLICE_PORT_NAME], selector),
        replace(NAMESPACE, "namespace"),
        replace(SERVICE_NAME, "service"),
    ]


def _dedicated_pods(targets: Targets, *, own_labels: bool) -> list[Rule]:
    """One target per pod with the job's labels in `namespace`, on its container port `port`."""
    labels = targets.selected_pod_labels()
    keys = sorted(labels)
    values = ";".join(_escape(labels[key]) for key in keys)
    rules = [
        select(
            "keep",
            [NAMESPACE, *map(_pod_label, keys), PORT_NAME],
            f"{targets.namespace};{values};{targets.port}",
        ),
        _NOT_RUNNING,
    ]
    return rules + (_workload_labels() if own_labels else [])


def _annotated(kind: str) -> list[Rule]:
    """Opt-in and target URL from the `prometheus.io/*` annotations of a pod or service."""
    scrape, port, path, scheme = (annotation(kind, a) for a in SCRAPE_ANNOTATIONS)
    return [
        select("keep", [scrape], "true"),
        select("keep", [port], r"\d+"),  # no (or no numeric) port annotation: nothing to scrape
        replace(scheme, "__scheme__", regex="(https?)"),
        replace(path, "__metrics_path__", regex="(/.*)"),
    ]


def _opted_in_pods(skip_dedicated: list[Rule]) -> list[Rule]:
    port_annotation = annotation("pod", names.SCRAPE_PORT_ANNOTATION)
    return [
        *_annotated("pod"),
        *skip_dedicated,
        _NOT_RUNNING,
        # An init container without ports (runs before the app) is never the target.
        select("drop", [CONTAINER_INIT, PORT_NUMBER], "true;"),
        # The target's port: its declared one, or the annotated one for a container that declares none.
        replace([PORT_NUMBER, port_annotation], TMP_PORT, regex=r"(\d+);.*|;(\d+)", replacement="$1$2"),
        # Only the annotated port: one target per pod even when its containers declare several ports.
        keep_equal(TMP_PORT, port_annotation),
        # A container without ports: scrape <pod IP>:<annotated port> (IPv4, then IPv6 in brackets).
        replace([PORT_NUMBER, POD_IP, port_annotation], "__address__", r";([^:]+);(\d+)", "$1:$2"),
        replace([PORT_NUMBER, POD_IP, port_annotation], "__address__", r";(.+:.+);(\d+)", "[$1]:$2"),
        *_workload_labels(container=False),
        # `container` only where the declared port says which container serves the metrics.
        replace([PORT_NUMBER, CONTAINER_NAME], "container", regex=r"\d+;(.+)"),
    ]


def _opted_in_service_endpoints(skip_dedicated: list[Rule]) -> list[Rule]:
    port_annotation = annotation("service", names.SCRAPE_PORT_ANNOTATION)
    return [
        *_annotated("service"),
        # The pod opts in itself: the `pods` job scrapes it, so not again through its service.
        select("drop", [annotation("pod", names.SCRAPE_ANNOTATION)], "true"),
        *skip_dedicated,
        # Endpoint addresses only, ready or not: discovery also lists the pods' other container ports,
        # which carry no endpoint labels.
        select("keep", [ENDPOINTSLICE_READY], "true|false"),
        # A terminating pod is on its way out (the Endpoints API did not list it either).
        select("drop", [ENDPOINTSLICE_TERMINATING], "true"),
        # Only the slice port the annotation names (a service may expose several).
        keep_equal(ENDPOINTSLICE_PORT, port_annotation),
        replace(NAMESPACE, "namespace"),
        replace(SERVICE_NAME, "service"),
        replace(POD_NAME, "pod"),
        replace(CONTAINER_NAME, "container"),
        replace(POD_NODE, "node"),
    ]
