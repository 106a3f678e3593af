"""A simulated Kubernetes cluster made of real parts, on 127.0.0.1, for the tests.

    etcd ◀── kube-apiserver (the cluster's release: Pod Security admission, RBAC)
                  ▲     ▲     ▲
                  │     │     └── kwok controller (simulated nodes: their pods turn Running with loopback IPs)
                  │     ├── kube-controller-manager (Deployments, ReplicaSets, StatefulSets, DaemonSets,
                  │     │     EndpointSlices, service accounts and their tokens, disruption budgets, volumes)
                  │     └── kube-scheduler (binds the pods to the kwok nodes)
                  └── the tests: server-side apply, SubjectAccessReview, faults (delete, drain, scale)

`make go-tools` (scripts/go-tools.sh) builds the five from the Go module proxy into the venv; kwok's stage
definitions (what a simulated node and pod do, as `kwokctl` configures them by default) are read from its
module in the venv's module cache. Certificates, tokens and etcd's data live in a temporary directory; every
process listens on 127.0.0.1 on a free port, is started here, stopped here by its own PID, and the directory
is deleted.

The API server runs with its default admission plugins (they include PodSecurity, enforcing each namespace's
`pod-security.kubernetes.io/*` labels) and RBAC authorization. The controller-manager and the scheduler run
as kwokctl's binary runtime starts them (sigs.k8s.io/kwok pkg/kwokctl/components/kube_controller_manager.go,
kube_scheduler.go), but each with its own client certificate (system:kube-controller-manager,
system:kube-scheduler: the identities RBAC's bootstrap policy grants) and the controllers with their own
service accounts, as kubeadm runs them. A workload applied here gets its pods from its real controller, placed
by the real scheduler; `run_workload` waits for them. The one thing no part does is provision volumes (the
EBS CSI driver needs AWS): `provide_volumes` creates the volumes a StatefulSet's claims bind to, as an
administrator pre-provisions them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.lifecycle import StartStop
from harness.postgres import free_port
from observability import jobs
from observability.render import scrape_config

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
KUBE_APISERVER = Path(os.environ.get("KUBE_APISERVER_BIN", str(VENV_BIN / "kube-apiserver")))
ETCD = Path(os.environ.get("ETCD_BIN", str(VENV_BIN / "etcd")))
KWOK = Path(os.environ.get("KWOK_BIN", str(VENV_BIN / "kwok")))
KUBE_CONTROLLER_MANAGER = Path(
    os.environ.get("KUBE_CONTROLLER_MANAGER_BIN", str(VENV_BIN / "kube-controller-manager"))
)
KUBE_SCHEDULER = Path(os.environ.get("KUBE_SCHEDULER_BIN", str(VENV_BIN / "kube-scheduler")))
# The users RBAC's bootstrap policy binds the controller-manager's and the scheduler's roles to.
CONTROL_PLANE_USERS = {
    "kube-controller-manager": "system:kube-controller-manager",
    "kube-scheduler": "system:kube-scheduler",
}
# scripts/go-tools.sh: GOMODCACHE, and the kwok release it builds (kwok's stages are read from that module).
GO_MODULE_CACHE = REPO / ".venv" / "go" / "mod"
KWOK_MODULE = "sigs.k8s.io/kwok"
# kwokctl's default stages (pkg/kwokctl/runtime/cluster.go: getDefaultNodeStages without a lease,
# getDefaultPodStages), as files of kwok's module.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat/node-heartbeat.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)
HOST = "127.0.0.1"
# The address the API server publishes in `default/kubernetes`'s Endpoints and EndpointSlice: those refuse
# loopback addresses (validation: "may not be in the loopback range"), so it is one of TEST-NET-1, which
# nothing here listens on. Discovery finds it; nothing can scrape it.
ADVERTISE_ADDRESS = "192.0.2.1"
# The issuer EKS's API server uses differs per cluster; the audience a pod's projected token carries is
# this one unless the pod asks for another.
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CLUSTER_IP_RANGE = "10.100.0.0/16"  # EKS's default when the VPC is in 10.0.0.0/8
FIELD_MANAGER = "observability-platform"
# The names the API server's certificate carries for in-cluster clients (the agent's `apiserver` job
# verifies `server_name: kubernetes`).
KUBERNETES_SERVICE_NAMES = ",".join(
    f"DNS:{name}"
    for name in (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    )
)
ADMIN_USER = "sim-cluster-admin"
KUBELET_PORT = 10250  # the kubelet's default --port, which EKS nodes keep
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

Manifest = dict[str, Any]
# Kinds whose definitions an EKS add-on installs (the Secrets Store CSI driver's SecretProviderClass comes
# with aws-secrets-store-csi-driver-provider), not the stacks: the driver's module is not on the Go module
# proxy, so its CustomResourceDefinition is not here, and objects of these kinds are not applied.
ADDON_KINDS = frozenset({("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")})


class ClusterError(RuntimeError):
    """A part is missing or did not start, or the API server answered with an error."""


class ApiError(ClusterError):
    """The API server refused a request: its HTTP status and the Status object's reason and message."""

    def __init__(self, *, method: str, path: str, status_code: int, reason: str, message: str) -> None:
        super().__init__(f"{method} {path}: {status_code} {reason}: {message}")
        self.status_code = status_code
        self.reason = reason
        self.message = message


@dataclasses.dataclass(frozen=True)
class SimulatedNode:
    """A kwok node: `ip` is its InternalIP (host-network pods get it), `pod_cidr` where its pods' IPs come
    from. Both in 127.0.0.0/8, so a real process started for a pod can listen on exactly the pod's IP.
    `zone` is its `topology.kubernetes.io/zone` label (an EKS node's Availability Zone), which the charts'
    topology spread constraints require."""

    name: str
    ip: str
    pod_cidr: str
    zone: str = "sim-zone-a"


@dataclasses.dataclass
class Drained:
    """What `drain_node` did: the pods evicted, those a PodDisruptionBudget kept (their refusals), and
    those no controller owns (left alone), by name."""

    evicted: list[str] = dataclasses.field(default_factory=list)
    refused: dict[str, ApiError] = dataclasses.field(default_factory=dict)
    unmanaged: list[str] = dataclasses.field(default_factory=list)


DEFAULT_NODES = (
    SimulatedNode(name="kwok-node-a", ip="127.1.0.1", pod_cidr="127.2.1.0/24"),
    SimulatedNode(name="kwok-node-b", ip="127.1.0.2", pod_cidr="127.2.2.0/24", zone="sim-zone-b"),
)


@dataclasses.dataclass(frozen=True)
class Resource:
    """What discovery says about a kind: its URL prefix, plural name and whether it lives in a namespace."""

    prefix: str  # /api/v1 or /apis/<group>/<version>
    plural: str
    namespaced: bool

    def path(self, *, namespace: str | None, name: str | None = None) -> str:
        path = self.prefix
        if self.namespaced:
            if namespace is None:
                raise ClusterError(f"{self.plural} live in a namespace: none given")
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        return f"{path}/{name}" if name else path


def service_account_user(*, namespace: str, name: str) -> tuple[str, list[str]]:
    """The user name and groups the API server authenticates a service account's token as."""
    return (
        f"system:serviceaccount:{namespace}:{name}",
        ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
    )


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    """Bounded polling: True as soon as predicate() holds, False once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def kwok_stages_config(*, binary: Path = KWOK) -> str:
    """kwok's default stages, read from its module at the binary's release, as one YAML stream."""
    release = kwok_release(binary=binary)
    module_dir = GO_MODULE_CACHE / f"{KWOK_MODULE}@{release}"
    if not module_dir.is_dir():
        raise ClusterError(f"{module_dir} not found: run `make go-tools` (it downloads {KWOK_MODULE})")
    return "\n---\n".join((module_dir / stage).read_text() for stage in KWOK_STAGES)


def kwok_release(*, binary: Path = KWOK) -> str:
    """The release the binary was built from: `kwok --version` prints `kwok version v0.8.0 go1.26.8 ...`."""
    _require(binary)
    result = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    fields = result.stdout.split()
    if result.returncode != 0 or fields[:2] != ["kwok", "version"] or len(fields) < 3:
        raise ClusterError(f"`{binary} --version` did not name a release: {result.stdout}{result.stderr}")
    return fields[2]


def _require(binary: Path) -> None:
    if not binary.is_file():
        raise ClusterError(f"{binary} not found: run `make go-tools` (it builds the cluster's parts)")


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {result.stderr.strip()}")


class SimulatedCluster(StartStop):
    """etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the kwok controller with `nodes`
    registered and Ready."""

    def __init__(self, *, nodes: Sequence[SimulatedNode] = DEFAULT_NODES, at_scale: bool = False) -> None:
        """`at_scale`, for hundreds of nodes and thousands of pods on two cores (`make scale`): kwokctl's
        `disableQPSLimits` (no in-flight limits or priority and fairness in the API server, 5,000 requests/s,
        burst 10,000, for the controller-manager and the scheduler instead of their 20 and 50: kwok v0.8.0,
        pkg/kwokctl/components/kube_apiserver.go, kube_controller_manager.go, kube_scheduler.go), and nodes
        given 5 minutes without a heartbeat instead of 40 s: kwok's heartbeats queue behind thousands of
        pod updates, and a node marked NotReady has its pods' Ready condition set False by the node
        lifecycle controller, which kwok's stages never set back (5 of 2,000 pods at 500 nodes)."""
        for binary in (ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER, KWOK):
            _require(binary)
        self.nodes = tuple(nodes)
        self.at_scale = at_scale
        self.base_dir = Path(tempfile.mkdtemp(prefix="sim-cluster-"))
        self.port = free_port()
        self.server = f"https://{HOST}:{self.port}"
        self.ca_file = self.base_dir / "ca.crt"
        self.admin_token = secrets.token_hex(24)
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._resources: dict[tuple[str, str], Resource] = {}
        self._admin: httpx.Client | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._write_credentials()
        etcd_url = self._start_etcd()
        self._start_apiserver(etcd_url)
        if not wait_until(self._ready, timeout=START_TIMEOUT_SECONDS):
            raise ClusterError(
                f"kube-apiserver not ready in {START_TIMEOUT_SECONDS}s: {self._log_tail('kube-apiserver')}"
            )
        # The nodes' addresses before kwok starts: its node-initialize stage fills in `--node-ip` for a node
        # that has none yet, and a status it computed before our patch would overwrite ours (every node
        # then had the first node's IP, under load).
        for node in self.nodes:
            self._register(node)
        self._start_kwok()
        self._start_controller_manager()
        self._start_scheduler()
        if not wait_until(self._nodes_ready, timeout=START_TIMEOUT_SECONDS):
            raise ClusterError(f"kwok did not make the nodes Ready: {self._log_tail('kwok')}")

    def stop(self) -> None:
        """Stops what this instance started, by PID (the scheduler, the controller-manager, kwok, the API
        server, etcd), and deletes its data."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        for name in ("kube-scheduler", "kube-controller-manager", "kwok", "kube-apiserver", "etcd"):
            process = self._processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self._processes.items()}

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.base_dir / f"{name}.log").open("wb")
        # Its own session: a Ctrl-C meant for the test run reaches it only through stop().
        self._processes[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.base_dir, start_new_session=True
        )
        log.close()

    def _log_tail(self, name: str, lines: int = 20) -> str:
        log = self.base_dir / f"{name}.log"
        text = log.read_text(errors="replace") if log.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _write_credentials(self) -> None:
        """A throwaway CA, the API server's serving certificate (for 127.0.0.1), the controller-manager's and
        the scheduler's client certificates and kubeconfigs, the service-account signing key and the admin's
        static token, all in the temporary directory."""
        d = self.base_dir
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2")
        _openssl(
            "req", "-x509", *ec,
            "-keyout", str(d / "ca.key"), "-out", str(self.ca_file), "-subj", "/CN=sim-cluster-ca",
        )  # fmt: skip
        _openssl(
            "req", "-x509", *ec,
            "-keyout", str(d / "apiserver.key"), "-out", str(d / "apiserver.crt"),
            "-subj", "/CN=kube-apiserver",
            "-CA", str(self.ca_file), "-CAkey", str(d / "ca.key"),
            "-addext", f"subjectAltName=IP:{HOST},DNS:localhost,{KUBERNETES_SERVICE_NAMES}",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "extendedKeyUsage=serverAuth",
        )  # fmt: skip
        _openssl(
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(d / "sa.key")
        )
        _openssl("pkey", "-in", str(d / "sa.key"), "-pubout", "-out", str(d / "sa.pub"))
        (d / "tokens.csv").write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        (d / "kubeconfig").write_text(self._kubeconfig({"token": self.admin_token}))
        # The API server authenticates a client certificate's CN as the user (--client-ca-file).
        for component, user in CONTROL_PLANE_USERS.items():
            _openssl(
                "req", "-x509", *ec,
                "-keyout", str(d / f"{component}.key"), "-out", str(d / f"{component}.crt"),
                "-subj", f"/CN={user}",
                "-CA", str(self.ca_file), "-CAkey", str(d / "ca.key"),
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "extendedKeyUsage=clientAuth",
            )  # fmt: skip
            credentials = {
                "client-certificate": str(d / f"{component}.crt"),
                "client-key": str(d / f"{component}.key"),
            }
            (d / f"{component}.kubeconfig").write_text(self._kubeconfig(credentials))
        for path in d.iterdir():
            path.chmod(0o600)

    def _kubeconfig(self, user: Manifest) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "sim",
                        "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                    }
                ],
                "users": [{"name": "user", "user": user}],
                "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "user"}}],
                "current-context": "sim",
            }
        )

    def _start_etcd(self) -> str:
        client_url, peer_url = f"http://{HOST}:{free_port()}", f"http://{HOST}:{free_port()}"
        self._spawn(
            "etcd",
            [
                str(ETCD),
                "--name", "sim",
                "--data-dir", str(self.base_dir / "etcd"),
                "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                "--initial-cluster", f"sim={peer_url}",
                # Test data: nothing to keep across a crash.
                "--unsafe-no-fsync",
            ],
        )  # fmt: skip
        return client_url

    def _start_apiserver(self, etcd_url: str) -> None:
        d = self.base_dir
        self._spawn(
            "kube-apiserver",
            [
                str(KUBE_APISERVER),
                "--etcd-servers", etcd_url,
                "--bind-address", HOST, "--secure-port", str(self.port),
                "--advertise-address", ADVERTISE_ADDRESS,
                "--tls-cert-file", str(d / "apiserver.crt"),
                "--tls-private-key-file", str(d / "apiserver.key"),
                "--cert-dir", str(d / "certs"),
                "--token-auth-file", str(d / "tokens.csv"),
                "--client-ca-file", str(self.ca_file),
                "--authorization-mode", "RBAC",
                "--service-account-issuer", SERVICE_ACCOUNT_ISSUER,
                "--service-account-key-file", str(d / "sa.pub"),
                "--service-account-signing-key-file", str(d / "sa.key"),
                "--service-cluster-ip-range", SERVICE_CLUSTER_IP_RANGE,
                "--profiling=false",
                # As EKS (and the kubelet's default): privileged containers exist; node-exporter's
                # namespace admits them, `restricted` ones refuse them.
                "--allow-privileged=true",
                *(
                    ["--max-requests-inflight=0", "--max-mutating-requests-inflight=0",
                     "--enable-priority-and-fairness=false"]
                    if self.at_scale else []
                ),
            ],
        )  # fmt: skip

    def _start_kwok(self) -> None:
        (self.base_dir / "kwok.yaml").write_text(kwok_stages_config())
        self._spawn(
            "kwok",
            [
                str(KWOK),
                "--kubeconfig", str(self.base_dir / "kubeconfig"),
                "--config", str(self.base_dir / "kwok.yaml"),
                "--manage-all-nodes",
                # Pods of a node without a pod CIDR would get one from here: loopback too.
                "--cidr", "127.3.0.0/16",
                "--node-ip", self.nodes[0].ip if self.nodes else HOST,
                # kwok's own server (logs, exec, metrics): on loopback, on a free port.
                "--server-address", f"{HOST}:{free_port()}",
            ],
        )  # fmt: skip

    def _start_controller_manager(self) -> None:
        """As kwokctl starts it (components/kube_controller_manager.go: every default controller, its
        kubeconfig, --bind-address and --secure-port, --root-ca-file and --service-account-private-key-file
        with authorization on), with the flags kubeadm adds: each controller with its own service account's
        credentials, and the kubeconfigs that check who reads its own endpoints."""
        d = self.base_dir
        self._spawn(
            "kube-controller-manager",
            [
                str(KUBE_CONTROLLER_MANAGER),
                *self._component_flags("kube-controller-manager"),
                # The tokens controller's key (the API server verifies with sa.pub), and the CA it publishes
                # in each namespace's kube-root-ca.crt.
                "--service-account-private-key-file", str(d / "sa.key"),
                "--root-ca-file", str(self.ca_file),
                "--use-service-account-credentials=true",
                # Every default controller but the HorizontalPodAutoscaler's: it reads the resource metrics
                # API (metrics-server, an EKS add-on) that nothing serves here, and would still raise the
                # orders API to its minReplicas (2), where the harness runs one orders API process
                # (harness/cluster_stack.py). The Deployment keeps its own replicas, as before the autoscaler
                # acts.
                "--controllers=*,-horizontal-pod-autoscaler-controller",
                *(["--node-monitor-grace-period=5m"] if self.at_scale else []),
            ],
        )  # fmt: skip

    def _start_scheduler(self) -> None:
        """As kwokctl starts it (components/kube_scheduler.go: its kubeconfig, --bind-address and
        --secure-port), with kubeadm's authentication and authorization kubeconfigs."""
        self._spawn("kube-scheduler", [str(KUBE_SCHEDULER), *self._component_flags("kube-scheduler")])

    def _component_flags(self, name: str) -> list[str]:
        """What kube-controller-manager and kube-scheduler share: `name`'s kubeconfig (its own client
        certificate) for the API and for checking who reads its endpoints, its secure port on loopback, its
        serving certificate's folder, no profiling."""
        kubeconfig = str(self.base_dir / f"{name}.kubeconfig")
        return [
            "--kubeconfig", kubeconfig,
            "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
            "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
            "--bind-address", HOST, "--secure-port", str(free_port()),
            "--cert-dir", str(self.base_dir / f"{name}-certs"),
            "--profiling=false",
            *(["--kube-api-qps=5000", "--kube-api-burst=10000"] if self.at_scale else []),
        ]  # fmt: skip

    def _ready(self) -> bool:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise ClusterError(f"{name} exited ({process.returncode}): {self._log_tail(name)}")
        try:
            return self.admin.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def _register(self, node: SimulatedNode) -> None:
        """A Node as a kubelet registers it (addresses, its port); kwok then takes it over (conditions,
        heartbeat). Nothing listens on the kubelet port: there is no kubelet."""
        self.create(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": node.name,
                    "labels": {
                        "kubernetes.io/hostname": node.name,
                        "kubernetes.io/os": "linux",
                        "topology.kubernetes.io/zone": node.zone,
                        "type": "kwok",
                    },
                    "annotations": {"kwok.x-k8s.io/node": "fake"},
                },
                "spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]},
            }
        )
        self.request(
            "PATCH",
            f"/api/v1/nodes/{node.name}/status",
            headers={"Content-Type": "application/merge-patch+json"},
            body={
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": node.ip},
                        {"type": "Hostname", "address": node.name},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
                }
            },
        )

    def _nodes_ready(self) -> bool:
        self._ready()
        ready = {
            n["metadata"]["name"]
            for n in self.list_objects("v1", "Node")
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
        }
        return ready >= {node.name for node in self.nodes}

    # -- the API -----------------------------------------------------------------------------------------
    @property
    def admin(self) -> httpx.Client:
        if self._admin is None:
            self._admin = self.client(self.admin_token)
        return self._admin

    def client(self, token: str) -> httpx.Client:
        """An HTTPS client of the API server that authenticates with `token` and trusts only its CA."""
        return httpx.Client(
            base_url=self.server,
            verify=ssl.create_default_context(cafile=self.ca_file),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Manifest:
        """One request as the admin; the decoded answer, or ApiError with the Status object's message."""
        content = None if body is None else json.dumps(body).encode()
        response = self.admin.request(method, path, content=content, params=params, headers=headers)
        if response.status_code >= 400:
            try:
                status = response.json()
            except ValueError:
                status = {"reason": "", "message": response.text}
            raise ApiError(
                method=method,
                path=path,
                status_code=response.status_code,
                reason=status.get("reason", ""),
                message=status.get("message", ""),
            )
        result: Manifest = response.json()
        return result

    def resource(self, api_version: str, kind: str) -> Resource:
        """Where `kind` of `api_version` is served, from the API server's discovery documents."""
        key = (api_version, kind)
        if key not in self._resources:
            prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                listing = self.request("GET", prefix)
            except ApiError as error:
                raise ClusterError(
                    f"{api_version} is not served by the API server ({error.status_code})"
                ) from error
            for entry in listing["resources"]:
                if "/" not in entry["name"]:
                    self._resources[(api_version, entry["kind"])] = Resource(
                        prefix=prefix, plural=entry["name"], namespaced=entry["namespaced"]
                    )
            if key not in self._resources:
                raise ClusterError(f"kind {kind} is not served in {api_version}")
        return self._resources[key]

    def _path_of(self, manifest: Manifest, *, with_name: bool) -> str:
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        metadata = manifest["metadata"]
        namespace = metadata.get("namespace", "default") if resource.namespaced else None
        return resource.path(namespace=namespace, name=metadata["name"] if with_name else None)

    def apply(self, manifest: Manifest, *, field_manager: str = FIELD_MANAGER) -> Manifest:
        """Server-side apply, as `kubectl apply --server-side --force-conflicts`, rejecting unknown or
        duplicate fields (fieldValidation=Strict) instead of dropping them."""
        return self.request(
            "PATCH",
            self._path_of(manifest, with_name=True),
            body=manifest,
            params={"fieldManager": field_manager, "force": "true", "fieldValidation": "Strict"},
            headers={"Content-Type": "application/apply-patch+yaml"},
        )

    def create(self, manifest: Manifest) -> Manifest:
        return self.request(
            "POST",
            self._path_of(manifest, with_name=False),
            body=manifest,
            params={"fieldValidation": "Strict"},
        )

    def list_objects(self, api_version: str, kind: str, *, namespace: str | None = None) -> list[Manifest]:
        """Every object of `kind` in `namespace`, or everywhere without one."""
        resource = self.resource(api_version, kind)
        path = resource.path(namespace=namespace) if namespace else f"{resource.prefix}/{resource.plural}"
        items: list[Manifest] = self.request("GET", path)["items"]
        return items

    def service_account_token(self, *, namespace: str, name: str) -> str:
        """A token for the service account (TokenRequest), as the kubelet projects into its pods."""
        answer = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 3600},
            },
        )
        token: str = answer["status"]["token"]
        return token

    def allowed(
        self,
        *,
        user: str,
        groups: Sequence[str],
        verb: str,
        resource: str,
        group: str = "",
        namespace: str | None = None,
        subresource: str = "",
        name: str = "",
    ) -> bool:
        """`kubectl auth can-i --as user`: the API server's SubjectAccessReview answer."""
        attributes: dict[str, str] = {"verb": verb, "resource": resource, "group": group}
        for key, value in (("namespace", namespace), ("subresource", subresource), ("name", name)):
            if value:
                attributes[key] = value
        review = self.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {"user": user, "groups": list(groups), "resourceAttributes": attributes},
            },
        )
        return bool(review["status"].get("allowed", False))

    # -- workloads ---------------------------------------------------------------------------------------
    def wait_default_service_account(self, namespace: str, *, timeout: float = 60.0) -> None:
        """Waits for the service-account controller's `default` account in `namespace` (pods without one run
        as it, and the API server refuses them until it exists)."""
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
        if not wait_until(lambda: self.admin.get(path).status_code == 200, timeout=timeout):
            raise ClusterError(f"no {path} in {timeout}s: {self._log_tail('kube-controller-manager')}")

    def wait_endpoint_slice(self, *, namespace: str, service: str, timeout: float = 60.0) -> None:
        """Waits for the EndpointSlice controller's first slice of `service` (labelled
        `kubernetes.io/service-name`)."""
        path = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
        params = {"labelSelector": f"kubernetes.io/service-name={service}"}
        if not wait_until(lambda: bool(self.request("GET", path, params=params)["items"]), timeout=timeout):
            raise ClusterError(
                f"no EndpointSlice of {namespace}/{service} in {timeout}s: "
                f"{self._log_tail('kube-controller-manager')}"
            )

    def add_default_service_account(self, namespace: str) -> None:
        """The name callers knew when the harness made the account: the real controller adds it now."""
        self.wait_default_service_account(namespace)

    def selected_pods(self, workload: Manifest) -> list[Manifest]:
        """The live pods `workload`'s selector matches, but those being deleted, by name."""
        selector = workload["spec"]["selector"]
        if selector.get("matchExpressions"):
            raise ClusterError(f"{workload['metadata']['name']}: only matchLabels selectors are listed here")
        namespace = workload["metadata"].get("namespace", "default")
        pods = self.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods",
            params={"labelSelector": ",".join(f"{k}={v}" for k, v in selector["matchLabels"].items())},
        )["items"]
        live = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
        return sorted(live, key=lambda p: str(p["metadata"]["name"]))

    def run_workload(self, workload: Manifest, *, timeout: float = START_TIMEOUT_SECONDS) -> list[Manifest]:
        """Waits until the applied `workload`'s controller has rolled it out (`kubectl rollout status`'s
        conditions) and each of its pods is Running with an IP; returns those pods, by name. A StatefulSet's
        claims get their volumes first (`provide_volumes`)."""
        kind, name = workload["kind"], workload["metadata"]["name"]
        if kind not in WORKLOAD_KINDS:
            raise ClusterError(f"{kind}/{name} is not a workload ({', '.join(WORKLOAD_KINDS)})")
        path = self._path_of(workload, with_name=True)
        if kind == "StatefulSet":
            self.provide_volumes(self.request("GET", path))
        pods: list[Manifest] = []

        def rolled_out() -> bool:
            live = self.request("GET", path)
            expected = _rolled_out_replicas(live)
            if expected is None:
                return False
            pods[:] = [
                p
                for p in self.selected_pods(live)
                if p.get("status", {}).get("phase") == "Running" and p["status"].get("podIP")
            ]
            return len(pods) == expected

        if not wait_until(rolled_out, timeout=timeout, interval=0.5):
            raise ClusterError(
                f"{kind}/{name} not rolled out in {timeout}s ({len(pods)} pods Running): "
                f"{self._log_tail('kube-controller-manager')}\n{self._log_tail('kube-scheduler')}"
            )
        return pods

    def provide_volumes(self, statefulset: Manifest) -> None:
        """A volume for each claim the StatefulSet's controller makes (`<template>-<name>-<ordinal>`), bound
        to it ahead (claimRef) as an administrator pre-provisions one: here nothing provisions the EBS CSI
        driver's volumes. The PersistentVolume controller binds the claims; the scheduler then places the
        pods (their StorageClass waits for the first consumer)."""
        spec, metadata = statefulset["spec"], statefulset["metadata"]
        for template in spec.get("volumeClaimTemplates", []):
            for ordinal in range(spec.get("replicas", 1)):
                claim = f"{template['metadata']['name']}-{metadata['name']}-{ordinal}"
                volume_spec = {
                    "capacity": {"storage": template["spec"]["resources"]["requests"]["storage"]},
                    "accessModes": template["spec"].get("accessModes", ["ReadWriteOnce"]),
                    "persistentVolumeReclaimPolicy": "Delete",
                    "csi": {
                        "driver": "ebs.csi.aws.com",
                        "volumeHandle": f"vol-{metadata['namespace']}-{claim}",
                    },
                    "claimRef": {"namespace": metadata["namespace"], "name": claim},
                }
                if template["spec"].get("storageClassName"):
                    volume_spec["storageClassName"] = template["spec"]["storageClassName"]
                self.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolume",
                        "metadata": {"name": f"{metadata['namespace']}-{claim}"},
                        "spec": volume_spec,
                    }
                )

    # -- faults --------------------------------------------------------------------------------------------
    def delete_pod(self, *, namespace: str, name: str) -> None:
        """Deletes the pod with its default grace period (kwok ends it at once)."""
        self.request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")

    def cordon(self, node: str, *, unschedulable: bool = True) -> None:
        """`kubectl cordon` (`uncordon` with unschedulable=False): the scheduler places no new pod there."""
        self.request(
            "PATCH",
            f"/api/v1/nodes/{node}",
            body={"spec": {"unschedulable": unschedulable}},
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )

    def evict(self, *, namespace: str, name: str) -> None:
        """The Eviction API, as `kubectl drain` evicts: ApiError 429 when a PodDisruptionBudget refuses."""
        self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods/{name}/eviction",
            body={
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": name, "namespace": namespace},
            },
        )

    def drain_node(self, node: str, *, pod_selector: str = "") -> Drained:
        """`kubectl drain --ignore-daemonsets [--pod-selector]`: cordons `node`, then evicts its pods (but
        DaemonSets'), in name order. Where kubectl retries a refused eviction (ApiError 429 from a
        PodDisruptionBudget) until its timeout, the refusal is kept and the next pod tried; a pod no
        controller owns is not evicted (kubectl refuses it without --force: nothing would replace it)."""
        self.cordon(node)
        params = {"fieldSelector": f"spec.nodeName={node}"}
        if pod_selector:
            params["labelSelector"] = pod_selector
        pods = self.request("GET", "/api/v1/pods", params=params)["items"]
        drained = Drained()
        for pod in sorted(pods, key=lambda p: str(p["metadata"]["name"])):
            metadata = pod["metadata"]
            owners = metadata.get("ownerReferences", [])
            if any(o["kind"] == "DaemonSet" for o in owners) or "deletionTimestamp" in metadata:
                continue
            if not any(o.get("controller") for o in owners):
                drained.unmanaged.append(metadata["name"])
                continue
            try:
                self.evict(namespace=metadata["namespace"], name=metadata["name"])
            except ApiError as refused:
                if refused.status_code != 429:
                    raise
                drained.refused[metadata["name"]] = refused
                continue
            drained.evicted.append(metadata["name"])
        return drained

    def scale(self, workload: Manifest, *, replicas: int) -> None:
        """`kubectl scale`: the workload's scale subresource set to `replicas`."""
        self.request(
            "PATCH",
            f"{self._path_of(workload, with_name=True)}/scale",
            body={"spec": {"replicas": replicas}},
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def create_pod(self, pod: Manifest) -> Manifest:
        namespace = pod["metadata"]["namespace"]
        return self.request(
            "POST", f"/api/v1/namespaces/{namespace}/pods", body=pod, params={"fieldValidation": "Strict"}
        )

    def wait_running(self, *, namespace: str, names: Sequence[str], timeout: float = 60.0) -> list[Manifest]:
        """The pods, once kwok has made each Running with an IP; else ClusterError naming their phases."""
        pods: dict[str, Manifest] = {}

        def running() -> bool:
            pods.clear()
            pods.update(
                {p["metadata"]["name"]: p for p in self.list_objects("v1", "Pod", namespace=namespace)}
            )
            return all(
                pods.get(name, {}).get("status", {}).get("phase") == "Running"
                and pods[name]["status"].get("podIP")
                for name in names
            )

        if not wait_until(running, timeout=timeout):
            phases = {name: pods.get(name, {}).get("status", {}).get("phase") for name in names}
            raise ClusterError(f"pods not Running in {timeout}s: {phases}: {self._log_tail('kwok')}")
        return [pods[name] for name in names]


def _rolled_out_replicas(live: Manifest) -> int | None:
    """How many pods the live workload has once its controller reports it rolled out (`kubectl rollout
    status`: the current generation observed, every replica updated and available); None until then."""
    spec, status, metadata = live["spec"], live.get("status", {}), live["metadata"]
    if status.get("observedGeneration", 0) < metadata["generation"]:
        return None
    if live["kind"] == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        done = desired > 0 and status.get("updatedNumberScheduled") == desired
        return desired if done and status.get("numberAvailable") == desired else None
    replicas: int = spec.get("replicas", 1)
    counts = [status.get(key, 0) for key in ("replicas", "updatedReplicas", "availableReplicas")]
    if live["kind"] == "StatefulSet" and status.get("currentRevision") != status.get("updateRevision"):
        return None
    return replicas if counts == [replicas] * 3 else None


def against(config: Mapping[str, Any], *, cluster: SimulatedCluster, token_file: Path) -> dict[str, Any]:
    """The agent's configuration as it runs against the simulated cluster instead of from inside a real
    one: every Kubernetes discovery gets the API server's address, its CA and the service account's token
    (in the cluster: the in-cluster defaults), and the jobs that read the mounted service-account token and
    CA bundle read `token_file` and the simulated cluster's CA. Nothing else changes."""
    credentials = {
        "authorization": {"credentials_file": str(token_file)},
        "tls_config": {"ca_file": str(cluster.ca_file)},
    }
    paths = {scrape_config.TOKEN_FILE: str(token_file), scrape_config.CA_FILE: str(cluster.ca_file)}
    result = copy.deepcopy(dict(config))
    for job in result["scrape_configs"]:
        for discovery in job.get("kubernetes_sd_configs", []):
            discovery |= {"api_server": cluster.server, **copy.deepcopy(credentials)}
        if "credentials_file" in job.get("authorization", {}):
            job["authorization"]["credentials_file"] = paths[job["authorization"]["credentials_file"]]
        if "ca_file" in job.get("tls_config", {}):
            job["tls_config"]["ca_file"] = paths[job["tls_config"]["ca_file"]]
    return result


def with_apiserver_target(config: Mapping[str, Any], *, cluster: SimulatedCluster) -> dict[str, Any]:
    """`config` with the API server's job scraping the simulated API server where it listens: discovery
    finds only ADVERTISE_ADDRESS (Endpoints and EndpointSlices refuse loopback addresses), so the job's
    discovery and target relabeling give way to that one static target. Its scheme, TLS (server name
    `kubernetes`), token, limits and keep rules stay as generated."""
    result = copy.deepcopy(dict(config))
    for job in result["scrape_configs"]:
        if job["job_name"] == jobs.APISERVER:
            job.pop("kubernetes_sd_configs")
            job.pop("relabel_configs", None)
            job["static_configs"] = [{"targets": [f"{HOST}:{cluster.port}"]}]
    return result
