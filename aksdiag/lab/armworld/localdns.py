"""ARM worlds with AKS LocalDNS: the healthy seed-000 cluster on a LocalDNS-capable node image, its pool's
`localDNSProfile` set one way per world (issue 14).

The profile starts from `arm_seeds/local_dns_profile.json`, Learn's default LocalDNS configuration ("Configure
LocalDNS in AKS": mode Required, `.` and `cluster.local` in both override maps); `state` is what AKS reports
(read-only in the REST API). The VNet's DNS servers are the healthy world's (the hub's custom server 10.1.0.4), which
LocalDNS's `VnetDNS` destination means: the node's DHCP-given servers, read when the localdns service starts.
"""

from __future__ import annotations

import copy
from typing import Any

from aksdiag.lab.armworld.names import seed
from aksdiag.lab.scenarios import FORWARD_ZONE

Body = dict[str, Any]

WORLDS = {
    "localdns-healthy": "LocalDNS Required and Enabled on the pool, Learn's default overrides (. to the VNet's DNS "
    "servers, cluster.local to CoreDNS over TCP)",
    "localdns-force-tcp": f"vnetDNSOverrides '.' and kubeDNSOverrides {FORWARD_ZONE} (VnetDNS) say ForceTCP: "
    "LocalDNS asks the VNet's DNS servers over TCP/53 only",
    "localdns-skips-vnet-dns": f"vnetDNSOverrides sends {FORWARD_ZONE} to ClusterCoreDNS: the node's lookups of the "
    "API server's name skip the VNet's DNS servers",
    "localdns-long-cache": "a profile that names only its mode: AKS's defaults, an hour of cache "
    "(cacheDurationInSeconds 3600) and serve-stale Immediate for an hour, NXDOMAIN included",
    "localdns-disabled": "LocalDNS mode Disabled, state Disabled: the pool's nodes ask the VNet's DNS servers directly",
    "localdns-preferred": "LocalDNS mode Preferred: the configuration is validated but not installed (state Disabled)",
}

KUBERNETES_VERSION = "1.33.5"
"""LocalDNS needs Kubernetes 1.31 or later, Ubuntu 22.04 or Azure Linux, and a VM size with 4 vCPUs or more."""
NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202511.07.0"
VM_SIZE = "Standard_D4ds_v5"


def profile(world: str) -> Body:
    """The pool's localDNSProfile in `world`, as the managedClusters GET returns it."""
    if world not in WORLDS:
        raise ValueError(f"unknown LocalDNS world {world!r}; one of {', '.join(WORLDS)}")
    p: Body = seed("local_dns_profile")
    p["state"] = "Enabled"
    vnet = p["vnetDNSOverrides"]
    if world == "localdns-force-tcp":  # both listeners force TCP towards the VNet's DNS servers for the zone
        vnet["."]["protocol"] = "ForceTCP"  # serveStale stays Immediate: Learn forbids ForceTCP with Verify
        kube_root = p["kubeDNSOverrides"]["."]
        p["kubeDNSOverrides"][FORWARD_ZONE] = {**kube_root, "forwardDestination": "VnetDNS", "protocol": "ForceTCP"}
    elif world == "localdns-skips-vnet-dns":
        vnet[FORWARD_ZONE] = {**copy.deepcopy(vnet["."]), "forwardDestination": "ClusterCoreDNS"}
    elif world == "localdns-long-cache":
        p = {"mode": "Required", "state": "Enabled"}
    elif world == "localdns-disabled":
        p["mode"], p["state"] = "Disabled", "Disabled"
    elif world == "localdns-preferred":
        p["mode"], p["state"] = "Preferred", "Disabled"
    return p


def build(world: str) -> list[Body]:
    """The healthy world's bodies, the cluster's pools on a LocalDNS-capable image with `profile(world)`."""
    from aksdiag.lab.armworld import worlds

    bodies = worlds.build("healthy")
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    props = cluster["properties"]
    props["kubernetesVersion"] = props["currentKubernetesVersion"] = KUBERNETES_VERSION
    for pool in props["agentPoolProfiles"]:
        pool.update(orchestratorVersion=KUBERNETES_VERSION, currentOrchestratorVersion=KUBERNETES_VERSION,
                    nodeImageVersion=NODE_IMAGE, vmSize=VM_SIZE, localDNSProfile=profile(world))  # fmt: skip
    return bodies
