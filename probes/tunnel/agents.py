"""The konnectivity-agent pods (label app=konnectivity-agent in kube-system, as AKS deploys them): digested from the
pods list, then judged: none ready (TUN001), some not ready (TUN002), crash-looping (TUN003)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aksdiag.codes.tunnel import TUN001, TUN002, TUN003
from aksdiag.facts import KubeList
from aksdiag.kubefacts import PodHealth
from aksdiag.model import Finding, Hop, Status

ID = "tunnel"
NAMESPACE = "kube-system"
LABEL = "app=konnectivity-agent"
CRASH_RESTARTS = 5
"""Restarts from which an agent that is not ready is called crash-looping between two back-offs; a waiting reason of
CrashLoopBackOff says it at once. A ready agent's restarts alone are no verdict (node reboots count too): the hop
shows them."""


@dataclass(frozen=True)
class Agent:
    name: str
    node: str
    phase: str
    ready: bool
    restarts: int = 0
    waiting: str = ""
    """The container's waiting reason (CrashLoopBackOff, ImagePullBackOff…), empty when it runs."""
    last_exit: str = ""
    """How the container last ended (`Error, exit 1`, `OOMKilled, exit 137`), empty when it never did."""

    @property
    def crash_looping(self) -> bool:
        return self.waiting == "CrashLoopBackOff" or (self.restarts >= CRASH_RESTARTS and not self.ready)

    def state(self) -> str:
        """`Running, ready` / `Pending, not ready: ImagePullBackOff` / … with restarts and the last exit."""
        words = [self.phase or "?", "ready" if self.ready else "not ready"]
        extra = [w for w in (self.waiting, f"{self.restarts} restarts" if self.restarts else "",
                             f"last ended {self.last_exit}" if self.last_exit else "") if w]  # fmt: skip
        return ", ".join(words) + (f" ({', '.join(extra)})" if extra else "")


def agents(listed: KubeList) -> tuple[Agent, ...]:
    """The agents of a pods list, with the konnectivity-agent container's health (kubefacts.PodHealth)."""
    healths = (PodHealth.from_kube(obj, "konnectivity-agent") for obj in listed.items)
    found = (Agent(h.name, h.node, h.phase, h.ready, h.restarts, h.waiting, h.last_exit) for h in healths)
    return tuple(sorted(found, key=lambda a: a.name))


def judge_agents(index: int, found: tuple[Agent, ...], pool_of: Mapping[str, str] | None,
                 vnet_integration: bool | None, findings: list[Finding]) -> Hop:  # fmt: skip
    """The agents' hop; findings for none ready, some not ready, crash-looping. `pool_of`: node name → pool (None:
    the nodes could not be read)."""
    pools = pool_of or {}
    where = "; ".join(f"{a.name} on {a.node or '(no node)'} ({pools.get(a.node, '?')}): {a.state()}" for a in found)
    if not found:
        if vnet_integration:
            return Hop(index, "tunnel", "konnectivity-agent", Status.OK,
                       detail="API Server VNet Integration: no tunnel, the API server dials the kubelets itself")  # fmt: skip
        if pool_of == {}:  # no node at all (every pool scaled to zero or stopped): nothing for an agent to run on
            return Hop(index, "tunnel", "konnectivity-agent", Status.OK,
                       detail="no node in the cluster: no agent runs, and no kubelet waits for the tunnel")  # fmt: skip
        caveat = (
            ""
            if vnet_integration is False
            else " (unless the cluster uses API Server VNet Integration: no Azure context says)"
        )
        detail = f"no pod labelled {LABEL} in {NAMESPACE}{caveat}"
        findings.append(TUN001.at(ID, hop=index, detail=detail + ": nothing carries the API server's calls to the "
                                        "kubelets (logs, exec, port-forward, webhooks).", evidence={"agents": []}))  # fmt: skip
        return Hop(index, "tunnel", "konnectivity-agent", Status.FAIL, detail=detail)
    ready = [a for a in found if a.ready]
    evidence = {"agents": [{"name": a.name, "node": a.node, "pool": pools.get(a.node, ""), "ready": a.ready,
                            "restarts": a.restarts, "waiting": a.waiting, "last_exit": a.last_exit} for a in found]}  # fmt: skip
    status = Status.OK
    if not ready:
        findings.append(TUN001.at(ID, hop=index, evidence=evidence,
                                        detail=f"none of the {len(found)} konnectivity-agent pods is ready: {where}."))  # fmt: skip
        status = Status.FAIL
    elif len(ready) < len(found):
        lame = "; ".join(f"{a.name} on {a.node or '(no node)'}: {a.state()}" for a in found if not a.ready)
        findings.append(TUN002.at(ID, hop=index, evidence=evidence,
                                        detail=f"{len(ready)} of {len(found)} konnectivity-agent pods are ready; {lame}."))  # fmt: skip
        status = Status.WARN
    for a in found:
        if a.crash_looping:
            findings.append(TUN003.at(ID, hop=index, pod=a.name, evidence=evidence,
                                            detail=f"{a.name} on {a.node or '(no node)'}: {a.state()}."))  # fmt: skip
            status = Status.FAIL if status is Status.FAIL else Status.WARN
    return Hop(index, "tunnel", "konnectivity-agent", status, detail=where)
