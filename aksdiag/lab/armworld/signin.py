"""ARM worlds of sign-in: Entra ID clusters (aadProfile, Azure RBAC, disableLocalAccounts) (issue 15).

The healthy seed-000 cluster with AKS-managed Entra integration: `arm_seeds/signin_aad_profile.json` is the
aadProfile as the managedClusters GET returns it (the REST API's shape: managed, enableAzureRBAC,
adminGroupObjectIDs, tenantID). ARM says how the cluster authenticates and authorizes; what a sign-in then meets
(a token refused, a user not authorized) is on the API server's side: aksdiag.lab.signinworld pairs each of these
with a kubeconfig and the fake API server's identities.
"""

from __future__ import annotations

from typing import Any

from aksdiag.lab.armworld.names import seed

Body = dict[str, Any]

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
"""The cluster's Entra tenant (aadProfile.tenantID)."""
ADMIN_GROUP = "f7f1a3c6-1c6b-4b6a-9d2a-6d1f3e2a7b10"
"""The Entra group bound to cluster-admin (aadProfile.adminGroupObjectIDs)."""

WORLDS: dict[str, str] = {
    "signin-entra-azure-rbac": "healthy: AKS-managed Entra ID, Azure RBAC for Kubernetes authorization, local "
    "accounts disabled (every user signs in with kubelogin)",
    "signin-entra-kube-rbac": "healthy: AKS-managed Entra ID, Kubernetes RBAC (RoleBindings to Entra groups) authorizes, "
    "local accounts enabled",
}
"""World name → one line saying how it is broken (or that it is healthy)."""


def aad_profile(world: str) -> Body:
    """The cluster's aadProfile in `world`."""
    profile: Body = seed("signin_aad_profile")
    profile["enableAzureRBAC"] = world == "signin-entra-azure-rbac"
    return profile


def build(world: str) -> list[Body]:
    """The healthy world's bodies, the cluster an Entra ID one as `world` says."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    from aksdiag.lab.armworld import worlds

    bodies = worlds.build("healthy")
    cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
    props = cluster["properties"]
    props["aadProfile"] = aad_profile(world)
    props["disableLocalAccounts"] = world == "signin-entra-azure-rbac"
    props["enableRBAC"] = True
    return bodies
