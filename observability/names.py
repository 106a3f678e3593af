"""The bottom layer: names, labels and ports that the model, the render layer, the charts, the stacks and
the harness share. It imports nothing of the project, so every layer may read it.

The orders API's own facts (its port, metrics and probe paths) are not here: they are the app's
(`webapp/orders_api/slo_contract.py`), declared to the platform by its service file
(`services/orders-api/service.yaml`), and a test checks the two agree.
"""

from __future__ import annotations

APP_NAMESPACE = "orders"
MONITORING_NAMESPACE = "monitoring"
# node-exporter alone: it needs the host's network, PID namespace and filesystems (Pod Security
# `privileged`), which `monitoring` no longer admits.
NODE_EXPORTER_NAMESPACE = "node-exporter"

WEBAPP = "orders-api"

# Both capacity modes expose the ALB through an IngressClass of this name (the AWS Load Balancer
# Controller's chart creates it in node-group mode; the Auto Mode chart creates it there).
ALB_INGRESS_CLASS = "alb"
# TLS 1.3 and 1.2 only: the policy AWS recommends for HTTPS listeners.
ALB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

POSTGRES = "postgres"
POSTGRES_PORT = 5432
POSTGRES_DATABASE = "orders"
POSTGRES_USER = "orders"
POSTGRES_EXPORTER = "postgres-exporter"  # the sidecar container in the Postgres pod
POSTGRES_EXPORTER_PORT = 9187
POSTGRES_EXPORTER_METRICS_PATH = "/metrics"

# Metrics agents (monitoring namespace).
PROMETHEUS_AGENT = "prometheus-agent"
PROMETHEUS_PORT = 9090
PROMETHEUS_CONTAINER = "prometheus"
PROMETHEUS_PORT_NAME = "web"  # the agent's API, probes and own metrics
# One StatefulSet per shard: `prometheus-agent`, then `prometheus-agent-shard-<n>` (prometheus-operator's
# naming); the pattern matches every shard's, for the alerts and panels that count per shard.
AGENT_STATEFULSET_PATTERN = f"{PROMETHEUS_AGENT}(-shard-[0-9]+)?"


def agent_statefulset(shard: int) -> str:
    """The StatefulSet (and pod name prefix) of the agent's shard `shard` (0, 1, ...)."""
    return PROMETHEUS_AGENT if shard == 0 else f"{PROMETHEUS_AGENT}-shard-{shard}"


# The agent's environment variable holding its replica index within its shard (0, 1, ...: the StatefulSet
# pod's ordinal); its config expands it into the `__replica__` external label.
AGENT_REPLICA_ENV = "AGENT_REPLICA"
# Above every workload (0), below the system classes: under node pressure the metrics pipeline is
# evicted last and may preempt application pods to get scheduled.
MONITORING_PRIORITY_CLASS = "platform-monitoring"
NODE_EXPORTER = "node-exporter"
NODE_EXPORTER_PORT = 9100
NODE_EXPORTER_PORT_NAME = "metrics"
KUBE_STATE_METRICS = "kube-state-metrics"
KUBE_STATE_METRICS_PORT = 8080  # metrics about Kubernetes objects
KUBE_STATE_METRICS_PORT_NAME = "http-metrics"
KUBE_STATE_METRICS_TELEMETRY_PORT = 8081  # its own process metrics
KUBE_STATE_METRICS_TELEMETRY_PORT_NAME = "telemetry"
KUBELET_PORT = 10250  # the agent scrapes kubelet and cAdvisor on each node's IP, not through the API server

# The EKS Pod Identity agent on every node (link-local, `AWS_CONTAINER_CREDENTIALS_FULL_URI`
# http://169.254.170.23/v1/credentials): where the agent's SDK gets the AWS credentials for remote write.
POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
POD_IDENTITY_AGENT_PORT = 80

# How a pod (or Service) opts in to the agent's `pods` (or `service-endpoints`) job.
SCRAPE_ANNOTATION = "prometheus.io/scrape"
SCRAPE_PORT_ANNOTATION = "prometheus.io/port"
SCRAPE_PATH_ANNOTATION = "prometheus.io/path"
SCRAPE_SCHEME_ANNOTATION = "prometheus.io/scheme"

# Label every pod of ours carries; selectors and network policies match on it.
NAME_LABEL = "app.kubernetes.io/name"
PART_OF_LABEL = "app.kubernetes.io/part-of"
PART_OF = "eks-observability-platform"

# Where the Secrets Store CSI driver mounts the database password inside containers.
SECRETS_MOUNT_PATH = "/mnt/secrets"
DB_PASSWORD_FILE = "db-password"  # noqa: S105 - a file name, not a password


def scrape_annotations(*, port: int, path: str) -> dict[str, str]:
    """The opt-in annotations for a pod serving Prometheus metrics over HTTP on `port` at `path`."""
    return {
        SCRAPE_ANNOTATION: "true",
        SCRAPE_PORT_ANNOTATION: str(port),
        SCRAPE_PATH_ANNOTATION: path,
        SCRAPE_SCHEME_ANNOTATION: "http",
    }


def selector(name: str) -> dict[str, str]:
    return {NAME_LABEL: name}


def labels(name: str) -> dict[str, str]:
    return {NAME_LABEL: name, PART_OF_LABEL: PART_OF}
