"""Sign-in worlds: an Entra ID cluster in ARM (aksdiag.lab.armworld.signin), the fake API server's identities and
RBAC, and the kubeconfig a user signs in with — healthy, or broken one way each (issue 15).

The API server side: a token is a user (the fake API server's `users`): the token the fake kubelogin mints for
alice@contoso.com in the cluster's tenant, for the AKS Entra server application, is the one it knows; any other
(another tenant or audience, an expired static token, a client certificate on a cluster without local accounts) is
refused with 401. Authorization is the world's RBAC: the `view` ClusterRole bound to alice's Entra group (by object
id, the token's groups claim). With Azure RBAC the binding stands in for an Azure role assignment (Azure Kubernetes
Service RBAC Reader at the cluster scope) and a refusal carries the words AKS's Azure authorizer adds.
What is modelled, not observed: Entra ID itself (no token is signed; the API server compares it whole), Azure role
assignments (a binding plays one), and Conditional Access (device code fails only for want of a terminal).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksdiag.lab import kubelogin
from aksdiag.lab.armworld.signin import TENANT

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AZ_CLI_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
"""The client id `az aks get-credentials` writes for kubelogin (the Azure Kubernetes Service client)."""
USER = "alice@contoso.com"
USER_OID = "9b3e2c1a-5d4f-4e6a-8b7c-1a2b3c4d5e6f"
USER_GROUP = "0c2d4e6f-8a1b-4c3d-9e5f-7a6b5c4d3e2f"
"""The Entra group alice is in (the team's): RoleBindings name it by object id."""
OTHER_TENANT = "8f1e2d3c-4b5a-4968-8776-655443322110"
LEGACY_SERVER_ID = "00000002-0000-0000-c000-000000000000"
EXPIRED = 1700000000
"""2023-11-14: the exp of the static token that has run out."""
AZURE_DENIAL = "User does not have access to the resource in Azure. Update role assignment to allow access."
EXEC_API = "client.authentication.k8s.io/v1beta1"
INSTALL_HINT = "kubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, " \
    "please go to https://aka.ms/aks/kubelogin\n"  # fmt: skip


@dataclass(frozen=True)
class World:
    summary: str
    arm: str
    """The ARM world (aksdiag.lab.armworld.signin) of the cluster."""
    sign_in: str
    """How the kubeconfig signs in: azurecli, devicecode, spn-other-tenant, az-other-tenant, wrong-server-id,
    kubelogin-missing, admin-certificate, expired-token."""
    authorized: bool = True
    codes: tuple[str, ...] = ()
    """What the signin probe must say."""


WORLDS: dict[str, World] = {
    "signin-healthy-azure-rbac": World("kubelogin -l azurecli; an Azure RBAC Reader role on the cluster",
                                       "signin-entra-azure-rbac", "azurecli"),
    "signin-healthy-kube-rbac": World("kubelogin -l azurecli; a ClusterRoleBinding of view to alice's group",
                                      "signin-entra-kube-rbac", "azurecli"),
    "signin-azure-role-missing": World("signed in, no Azure role assignment: 403 from Azure RBAC",
                                       "signin-entra-azure-rbac", "azurecli", authorized=False, codes=("AUTH002",)),
    "signin-rolebinding-missing": World("signed in, no RoleBinding for alice's group: 403 from Kubernetes RBAC",
                                        "signin-entra-kube-rbac", "azurecli", authorized=False, codes=("AUTH003",)),
    "signin-admin-certificate": World("an `az aks get-credentials --admin` certificate; local accounts disabled",
                                      "signin-entra-azure-rbac", "admin-certificate", codes=("AUTH004",)),
    "signin-device-code": World("kubelogin --login devicecode (as az aks get-credentials writes it), no terminal",
                                "signin-entra-azure-rbac", "devicecode", codes=("AUTH005",)),
    "signin-kubelogin-missing": World("the kubeconfig runs kubelogin, which is not installed",
                                      "signin-entra-azure-rbac", "kubelogin-missing", codes=("AUTH006",)),
    "signin-other-tenant": World("kubelogin -l spn with --tenant-id of another tenant: 401",
                                 "signin-entra-azure-rbac", "spn-other-tenant", codes=("AUTH007",)),
    "signin-az-login-other-tenant": World("kubelogin -l azurecli, but az login is in another tenant: 401",
                                          "signin-entra-azure-rbac", "az-other-tenant", codes=("AUTH001",)),
    "signin-expired-token": World("a static bearer token (a JWT) whose exp has passed: 401",
                                  "signin-entra-kube-rbac", "expired-token", codes=("AUTH008",)),
    "signin-wrong-server-id": World("kubelogin --server-id of a legacy app, not AKS's: 401",
                                    "signin-entra-azure-rbac", "wrong-server-id", codes=("AUTH009",)),
}  # fmt: skip


@dataclass(frozen=True)
class Running:
    name: str
    world: World
    api: Any
    """The FakeKubeApi."""
    kubeconfig: Path
    kubelogin: Path


def rbac_objects(world: World) -> list[dict[str, Any]]:
    """The `view` ClusterRole and, when the user is authorized, its binding to alice's Entra group."""
    view = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "view"},
            "rules": [{"apiGroups": ["", "discovery.k8s.io", "acn.azure.com"], "verbs": ["get", "list", "watch"],
                       "resources": ["*"]}]}  # fmt: skip
    if not world.authorized:
        return [view]
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "team-view"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                             "kind": "ClusterRole", "name": "view"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": USER_GROUP}]}  # fmt: skip
    return [view, binding]


def _static_token(**claims: Any) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.bGFi"


def _exec(tool: Path, args: list[str], state: Path, **env: str) -> dict[str, Any]:
    pairs = [{"name": kubelogin.STATE_ENV, "value": str(state)}, *({"name": k, "value": v} for k, v in env.items())]
    return {"exec": {"apiVersion": EXEC_API, "command": str(tool), "args": ["get-token", *args], "env": pairs,
                     "interactiveMode": "IfAvailable", "provideClusterInfo": False, "installHint": INSTALL_HINT}}  # fmt: skip


def user_entry(world: World, api: Any, tool: Path, state: Path, directory: Path) -> dict[str, Any]:
    """The kubeconfig's user, as the world signs in."""
    device_code = ["--login", "devicecode", "--server-id", AKS_SERVER_ID, "--client-id", AZ_CLI_CLIENT_ID,
                   "--tenant-id", TENANT, "--environment", "AzurePublicCloud"]  # fmt: skip
    kind = world.sign_in
    if kind in ("azurecli", "az-other-tenant"):
        return _exec(tool, ["--login", "azurecli", "--server-id", AKS_SERVER_ID], state)
    if kind == "wrong-server-id":
        return _exec(tool, ["--login", "azurecli", "--server-id", LEGACY_SERVER_ID], state)
    if kind == "devicecode":  # the code expires in 1 s here (900 in Entra): aksdiag's wait is not what is tested
        return _exec(tool, device_code, state, **{kubelogin.EXPIRES_ENV: "1"})
    if kind == "spn-other-tenant":
        args = ["--login", "spn", "--server-id", AKS_SERVER_ID, "--client-id", USER_OID, "--tenant-id", OTHER_TENANT]
        return _exec(tool, args, state)
    if kind == "kubelogin-missing":
        return _exec(directory / "not-installed" / "kubelogin", device_code, state)
    if kind == "admin-certificate":
        cert, key = api.pki.issue("masterclient", [], [], client=True)
        return {"client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
                "client-key-data": base64.b64encode(key.read_bytes()).decode()}  # fmt: skip
    if kind == "expired-token":
        return {"token": _static_token(sub="system:serviceaccount:ci:deployer", exp=EXPIRED, iss="https://kubernetes")}
    raise ValueError(f"unknown sign-in {kind!r}")


@contextmanager
def start(name: str, directory: str | Path) -> Iterator[Running]:
    """The world's fake API server on loopback, the fake kubelogin and the kubeconfig, until the block ends."""
    import yaml

    from aksdiag.lab.kube import FakeKubeApi, KubeWorld

    if name not in WORLDS:
        raise ValueError(f"unknown sign-in world {name!r}; one of {', '.join(WORLDS)}")
    world, where = WORLDS[name], Path(directory)
    where.mkdir(parents=True, exist_ok=True)
    kube = KubeWorld()
    kube.add_all(rbac_objects(world))
    kube.groups[USER] = (USER_GROUP,)
    kube.denial_reason = AZURE_DENIAL if world.arm == "signin-entra-azure-rbac" else ""
    tool = kubelogin.install(where / "bin")
    state = where / "az-login.json"
    tenant = OTHER_TENANT if world.sign_in == "az-other-tenant" else TENANT
    state.write_text(json.dumps({"user": USER, "oid": USER_OID, "tenant": tenant, "groups": [USER_GROUP]}))
    with FakeKubeApi(kube, where / "pki") as api:
        api.users[kubelogin.mint(TENANT, AKS_SERVER_ID, USER, USER_OID, (USER_GROUP,))] = USER
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": "aks-lab",
            "clusters": [{"name": "aks-lab", "cluster": {
                "server": api.url, "certificate-authority-data": base64.b64encode(api.pki.ca_pem.encode()).decode()}}],
            "users": [{"name": "clusterUser_rg-aks_aks-lab", "user": user_entry(world, api, tool, state, where)}],
            "contexts": [{"name": "aks-lab", "context": {"cluster": "aks-lab", "user": "clusterUser_rg-aks_aks-lab"}}],
        }  # fmt: skip
        kubeconfig = where / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(doc))
        yield Running(name, world, api, kubeconfig, tool)
