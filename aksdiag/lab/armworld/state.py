"""ARM worlds of cluster state: stopped, failed provisioning, failed pools with their node bootstrap (CSE) exit codes (issue 15).

Every world starts from a real payload shape (arm_seeds/, the REST API specification's examples, public recordings)
and is broken one way; its name starts with `state-`. The provisioning errors (`status.provisioningError`, a
CloudErrorBody) are Learn's own error texts (arm_seeds/state_provisioning_errors.json): AKS writes the failed
operation's error on the cluster and on each pool it failed on. Where a CSE exit code has a cause aksdiag can see,
the world starts from the world that is broken that way, so the join of the cluster_state finding finds it:
exit 52 from the hub whose zone link is missing (DNS011), exit 51 from the API server subnet whose NSG denies 4443,
exit 50 from the node subnet whose default route goes to None (egress-route-none).
"""

from __future__ import annotations

from typing import Any

from aksdiag.lab.armworld.names import seed

Body = dict[str, Any]

WORLDS: dict[str, str] = {
    "state-stopped": "the cluster is stopped (powerState Stopped): its API server and nodes are not running",
    "state-failed-dns": "the last operation failed: the nodes' bootstrap (vmssCSE) exited 52, they could not resolve "
    "the API server's name; the hub VNet where the custom DNS server lives is not linked to the zone",
    "state-failed-connect": "the last operation failed: the nodes' bootstrap exited 51 "
    "(VMExtensionError_K8SAPIServerConnFail); the API server subnet's NSG denies TCP 4443 from the VNet",
    "state-failed-outbound": "the last operation failed: the nodes' bootstrap exited 50, no outbound connection "
    "to mcr.microsoft.com:443; the node subnet's default route goes to None",
    "state-upgrading": "an upgrade to Kubernetes 1.33.5 is in progress (provisioningState Upgrading)",
    "state-pool-failed": "a second pool (apps) failed to scale on a compute quota (QuotaExceeded); the cluster runs",
    "state-pool-stopped": "a user pool (apps) is stopped (powerState Stopped) while the cluster runs",
}
"""World name → one line saying how it is broken (or that it is healthy)."""

BASE = {
    "state-failed-dns": "hub-not-linked",
    "state-failed-connect": "nsg-blocks-4443",
    "state-failed-outbound": "egress-route-none",
}
"""The world a state world starts from (the healthy one unless named): the cause its CSE exit code points at."""
ERRORS = {
    "state-failed-dns": "cse_dns_52",
    "state-failed-connect": "cse_connect_51",
    "state-failed-outbound": "cse_outbound_50",
}
"""The provisioning error of the worlds whose last cluster operation failed (arm_seeds/state_provisioning_errors)."""
UPGRADE_TO = "1.33.5"


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    from aksdiag.lab.armworld import worlds

    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    bodies = worlds.build(BASE.get(world, "healthy"))
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    props: Body = cluster["properties"]
    pools: list[Body] = props["agentPoolProfiles"]
    if world == "state-stopped":  # as `az aks stop` leaves it: the operation succeeded, everything powered off
        props["powerState"] = {"code": "Stopped"}
        for pool in pools:
            pool["powerState"] = {"code": "Stopped"}
    elif world in ERRORS:  # a create or scale that failed on the nodes: the cluster and the pool say so
        error = seed("state_provisioning_errors")[ERRORS[world]]
        for where in (props, pools[0]):
            where["provisioningState"] = "Failed"
            where["status"] = {"provisioningError": dict(error)}
    elif world == "state-upgrading":
        props["provisioningState"] = "Upgrading"
        props["kubernetesVersion"] = UPGRADE_TO
        for pool in pools:
            pool.update(provisioningState="Upgrading", orchestratorVersion=UPGRADE_TO)
    elif world in ("state-pool-failed", "state-pool-stopped"):
        apps = {**pools[0], "name": "apps", "mode": "User", "count": 3}
        apps.pop("status", None)
        if world == "state-pool-failed":
            error = seed("state_provisioning_errors")["quota"]
            apps.update(provisioningState="Failed", status={"provisioningError": error})
        else:
            apps["powerState"] = {"code": "Stopped"}  # `az aks nodepool stop`: its count is kept
        pools.append(apps)
    return bodies
