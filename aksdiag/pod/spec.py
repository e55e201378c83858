"""The one-shot pod: what `aksdiag pod` runs where, as a plain Pod manifest (no I/O here).

The pod is as locked down as a diagnostic can be: non-root (uid 65532), no capabilities, no privilege escalation,
seccomp RuntimeDefault, a read-only root filesystem, restartPolicy Never and an activeDeadlineSeconds so it ends
even if aksdiag on the client dies. It is pinned to its node by `spec.nodeName` (no scheduler, so it reaches
cordoned nodes too) and tolerates every taint, so `--all-nodes` reaches tainted pools. Its labels name aksdiag and
the run, so `aksdiag pod --cleanup` finds the leftovers. container/pod.yaml is the same pod for kubectl users.
With --node-resolver-files it also mounts the node's resolver files read-only (hostPath: NODE_FILES).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

from aksdiag import __version__

APP = "aksdiag"
CONTAINER = "aksdiag"
SERVICE_ACCOUNT = "aksdiag"
DEFAULT_NAMESPACE = "aksdiag"
"""Pod Security `restricted` is enforced there (container/rbac.yaml): only pods as locked down as ours run."""
HOST_NETWORK_NAMESPACE = "aksdiag-host-network"
"""Where `--host-network` (and `--node-resolver-files`) pods run by default: hostNetwork and hostPath volumes need
Pod Security `privileged`, so it has its own."""
NODE_FILES = (
    ("node-resolv-conf", "/etc/resolv.conf", "File", "/host/etc/resolv.conf"),
    ("node-systemd-resolve", "/run/systemd/resolve", "Directory", "/host/run/systemd/resolve"),
)
"""--node-resolver-files: (volume, the node's path, hostPath type, where the pod sees it), always read-only. The
node's /etc/resolv.conf is systemd-resolved's stub (127.0.0.53) on AKS's images; the directory holds the real
upstreams (resolv.conf), which the pod's own resolv.conf does not show."""
NODE_RESOLV_CONF = "/host/etc/resolv.conf"
NODE_RESOLVED_UPSTREAMS = "/host/run/systemd/resolve/resolv.conf"
DEFAULT_TIMEOUT = 120.0
ENV_IMAGE = "AKSDIAG_IMAGE"
ENV_DNS_POLICY = "AKSDIAG_DNS_POLICY"
"""Tells aksdiag inside the pod which DNS path its resolv.conf is (ClusterFirst: CoreDNS; Default: the node's)."""
ENV_NODE = "AKSDIAG_NODE_NAME"
MANAGED_BY = "app.kubernetes.io/managed-by"
NAME_LABEL = "app.kubernetes.io/name"
RUN_LABEL = "aksdiag/run-id"
NODE_ANNOTATION = "aksdiag/node"
POOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")
DNS_POLICIES = ("ClusterFirst", "Default")
NOT_IN_A_POD = ("pod", "demo", "lab", "tui", "explain", "snapshot")
"""Commands that make no sense inside the one-shot pod (they are local, interactive, or not a report)."""


@dataclass(frozen=True)
class PodPlan:
    """Everything that decides the pods of one run, apart from the nodes."""

    image: str
    namespace: str
    args: tuple[str, ...]
    """aksdiag's arguments inside the pod, ending in `--output json`."""
    run_id: str
    timeout: float
    host_network: bool = False
    dns_policy: str = "ClusterFirst"
    node_resolver_files: bool = False
    """Mount the node's resolver files read-only (NODE_FILES) and point aksdiag in the pod at them."""

    @property
    def command(self) -> str:
        return self.args[0]

    @property
    def selector(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    def pod_name(self, index: int | None = None) -> str:
        return f"aksdiag-{self.run_id}" if index is None else f"aksdiag-{self.run_id}-{index}"


def default_namespace(host_network: bool, node_resolver_files: bool = False) -> str:
    return HOST_NETWORK_NAMESPACE if host_network or node_resolver_files else DEFAULT_NAMESPACE


def new_run_id() -> str:
    return secrets.token_hex(3)


def parse_pod_timeout(text: str | None) -> float:
    if text is None:
        return DEFAULT_TIMEOUT
    from aksdiag.settings import parse_timeout

    return parse_timeout(text, 1, 3600, ": the pod's whole life")


def pod_manifest(plan: PodPlan, node: str, index: int | None = None) -> dict[str, Any]:
    """The Pod for `node` (index: its place in an --all-nodes run; None for a single pod)."""
    policy = plan.dns_policy
    if plan.host_network and policy == "ClusterFirst":
        policy = "ClusterFirstWithHostNet"  # else a hostNetwork pod silently gets the node's resolv.conf
    labels = {NAME_LABEL: APP, MANAGED_BY: APP, RUN_LABEL: plan.run_id, "app.kubernetes.io/version": __version__}
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": plan.image,
        "imagePullPolicy": "IfNotPresent",
        "args": list(plan.args),
        "env": [
            {"name": ENV_DNS_POLICY, "value": plan.dns_policy},
            {"name": ENV_NODE, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}]
    if plan.node_resolver_files:
        for name, path, kind, seen_at in NODE_FILES:
            volumes.append({"name": name, "hostPath": {"path": path, "type": kind}})
            container["volumeMounts"].append({"name": name, "mountPath": seen_at, "readOnly": True})
        container["env"] += [{"name": "AKSDIAG_RESOLV_CONF", "value": NODE_RESOLV_CONF},
                             {"name": "AKSDIAG_RESOLVED_CONF", "value": NODE_RESOLVED_UPSTREAMS}]  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": plan.pod_name(index),
            "namespace": plan.namespace,
            "labels": labels,
            "annotations": {NODE_ANNOTATION: node, "aksdiag/command": " ".join(plan.args)},
        },
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "activeDeadlineSeconds": max(1, math.ceil(plan.timeout)),
            "terminationGracePeriodSeconds": 0,
            "serviceAccountName": SERVICE_ACCOUNT,
            "automountServiceAccountToken": True,
            "hostNetwork": plan.host_network,
            "dnsPolicy": policy,
            "enableServiceLinks": False,
            "tolerations": [{"operator": "Exists"}],
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "fsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": volumes,
        },
    }


def node_pool(node: dict[str, Any]) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return next((labels[k] for k in POOL_LABELS if labels.get(k)), "")


def runnable(node: dict[str, Any]) -> str:
    """Why the pod cannot run on this node ("" when it can): not Ready, or not Linux."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    if labels.get("kubernetes.io/os", "linux") != "linux":
        return f"{labels['kubernetes.io/os']} node (the image is Linux)"
    conditions = (node.get("status") or {}).get("conditions")
    if conditions is None:
        return ""
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        return f"not Ready ({ready.get('reason') or ready.get('status')})"
    return ""
