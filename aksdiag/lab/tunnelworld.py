"""The Kubernetes side of the `tunnel-*` worlds (aksdiag.lab.armworld.tunnel): the nodes of the System and User
pools, and the konnectivity-agent pods as AKS runs them (a Deployment in kube-system, label app=konnectivity-agent,
two replicas on System nodes), healthy or broken the world's way. Built with the official client's models and
serialised to the wire shape the API server returns (aksdiag.lab.kubeworlds).
"""

from __future__ import annotations

from typing import Any

from aksdiag.lab.armworld import tunnel

Body = dict[str, Any]

AGENT_IMAGE = "mcr.microsoft.com/oss/v2/kubernetes/apiserver-network-proxy/agent:v0.30.3"
REPLICA_SET = "konnectivity-agent-6c9f8d7b5"
AGENTS = (f"{REPLICA_SET}-x2k7p", f"{REPLICA_SET}-q9lmd")
NODE_ADDRESSES = {"nodepool1": "10.224.0.{}", "userpool": "10.226.0.{}"}
FIRST_HOST = 5
"""Node addresses start at .5 (the API server's private endpoint holds 10.224.0.4 in the healthy world)."""


def node_name(pool: str, i: int) -> str:
    return f"aks-{pool}-{tunnel.SUFFIX}-vmss{i:06x}"


def node_ip(pool: str, i: int) -> str:
    return NODE_ADDRESSES[pool].format(FIRST_HOST + i)


def nodes() -> list[Body]:
    """The pools' nodes, labelled as AKS labels them (agent pool, mode), their providerIDs naming each scale set."""
    from aksdiag.lab import kubeworlds

    out = []
    for pool, (_, count) in tunnel.POOLS.items():
        mode = "system" if pool == "nodepool1" else "user"
        for i in range(count):
            body = kubeworlds.node(node_name(pool, i), node_ip(pool, i), [], i)
            body["metadata"]["labels"] = {"kubernetes.azure.com/agentpool": pool, "agentpool": pool,
                                          "kubernetes.azure.com/mode": mode, "kubernetes.io/os": "linux"}  # fmt: skip
            body["spec"]["providerID"] = body["spec"]["providerID"].replace(
                kubeworlds.VMSS, tunnel.scale_set_name(pool)
            )
            out.append(body)
    return out


def agent(name: str, node: str, ip: str, *, ready: bool = True, phase: str = "Running", restarts: int = 0,
          waiting: str = "", last_exit: tuple[str, int] | None = None) -> Body:  # fmt: skip
    """One konnectivity-agent pod: its container's state and the pod's Ready condition as the kubelet reports them."""
    from kubernetes.client import (
        V1Container,
        V1ContainerState,
        V1ContainerStateRunning,
        V1ContainerStateTerminated,
        V1ContainerStateWaiting,
        V1ContainerStatus,
        V1ObjectMeta,
        V1OwnerReference,
        V1Pod,
        V1PodCondition,
        V1PodIP,
        V1PodSpec,
        V1PodStatus,
    )

    from aksdiag.lab.kubeworlds import _serialize

    started = "2026-11-30T09:12:44Z"
    state = (V1ContainerState(waiting=V1ContainerStateWaiting(reason=waiting)) if waiting
             else V1ContainerState(running=V1ContainerStateRunning(started_at=started)))  # type: ignore[arg-type]  # wire form  # fmt: skip
    last = None
    if last_exit:
        last = V1ContainerState(terminated=V1ContainerStateTerminated(
            reason=last_exit[0], exit_code=last_exit[1], started_at=started, finished_at="2026-11-30T09:13:02Z"))  # type: ignore[arg-type]  # fmt: skip
    scheduled = phase != "Pending" or bool(node)
    status = V1ContainerStatus(name="konnectivity-agent", image=AGENT_IMAGE, image_id="", ready=ready,
                               restart_count=restarts, state=state, last_state=last, started=ready)  # fmt: skip
    conditions = [V1PodCondition(type=t, status=s) for t, s in (
        ("PodScheduled", "True" if scheduled else "False"), ("Initialized", "True"),
        ("ContainersReady", "True" if ready else "False"), ("Ready", "True" if ready else "False"))]  # fmt: skip
    return _serialize(
        V1Pod(
            api_version="v1", kind="Pod",
            metadata=V1ObjectMeta(name=name, namespace="kube-system",
                                  labels={"app": "konnectivity-agent", "pod-template-hash": REPLICA_SET.rsplit("-", 1)[1]},
                                  owner_references=[V1OwnerReference(api_version="apps/v1", kind="ReplicaSet",
                                                                     name=REPLICA_SET, uid="konnectivity-rs")]),
            spec=V1PodSpec(node_name=node or None, priority_class_name="system-node-critical",
                           containers=[V1Container(name="konnectivity-agent", image=AGENT_IMAGE)]),
            status=V1PodStatus(phase=phase, pod_ip=ip or None, pod_ips=[V1PodIP(ip=ip)] if ip else None,
                               conditions=conditions, container_statuses=[status] if node else None),
        )
    )  # fmt: skip


def agents(world: str) -> list[Body]:
    """The konnectivity-agent pods of `world` (none with API Server VNet Integration: there is no tunnel)."""
    if world.startswith("tunnel-vnet-integration") or world == "tunnel-agents-missing":
        return []
    homes = [(node_name("nodepool1", i), f"10.224.0.{20 + i}") for i in range(2)]
    if world in ("tunnel-agents-crashloop", "tunnel-apiserver-blocked"):
        return [agent(n, h, ip, ready=False, restarts=14, waiting="CrashLoopBackOff", last_exit=("Error", 1))
                for n, (h, ip) in zip(AGENTS, homes, strict=True)]  # fmt: skip
    if world == "tunnel-agent-not-ready":
        h = homes[1][0]
        return [
            agent(AGENTS[0], *homes[0]),
            agent(AGENTS[1], h, "", ready=False, phase="Pending", waiting="ContainerCreating"),
        ]
    return [agent(n, h, ip) for n, (h, ip) in zip(AGENTS, homes, strict=True)]


def kube(world: str) -> list[Body]:
    """Every object of the world's cluster: the nodes, the `kubernetes` Service, the kube-system namespace, the agents."""
    from aksdiag.lab import kubeworlds

    if world not in tunnel.WORLDS:
        raise ValueError(f"unknown tunnel world {world!r}; one of {', '.join(tunnel.WORLDS)}")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}
    return [namespace, *nodes(), kubeworlds.service("kubernetes", "10.0.0.1"), *agents(world)]
