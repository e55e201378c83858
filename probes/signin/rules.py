"""One rule per code over the sign-in view: the exec plugin that gave no credential (AUTH005, AUTH006), a refused
credential and its cause (AUTH004, AUTH007–AUTH009, else AUTH001), a user not authorized (AUTH002, AUTH003)."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

from aksdiag.probes.signin.credential import AKS_SERVER_ID, PROMPTING_LOGINS, Credential
from aksdiag.probes.signin.planning import ID

from aksdiag.azfacts import Cluster
from aksdiag.codes.auth import AUTH001, AUTH002, AUTH003, AUTH004, AUTH005, AUTH006, AUTH007, AUTH008, AUTH009
from aksdiag.facts import HttpResult
from aksdiag.model import Finding

FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]*)" in API group "(?P<group>[^"]*)" '
    r'(?:in the namespace "(?P<namespace>[^"]*)"|at the cluster scope)(?::\s*(?P<reason>.*))?',
    re.DOTALL,
)
"""kube-apiserver's 403 (apierrors.NewForbidden), with what an authorizer webhook added (AKS's Azure RBAC says
"User does not have access to the resource in Azure. Update role assignment to allow access.")."""
IN_AZURE = "in Azure"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class View:
    """Everything the rules judge, gathered once."""

    cred: Credential
    server: str
    at: str
    """address:port the requests went to."""
    discovery: HttpResult
    listing: HttpResult
    namespace: str
    now: str
    interactive: bool
    cluster: Cluster | None = None
    """The cluster as ARM has it, when the Azure context was read."""
    tenant: str = ""
    """aadProfile.tenantID (the tenant whose tokens the cluster accepts), when ARM says."""
    group: str = ""
    name: str = ""

    @property
    def refused(self) -> HttpResult | None:
        return next((r for r in (self.discovery, self.listing) if r.outcome == "ok" and r.status == 401), None)

    @property
    def forbidden(self) -> HttpResult | None:
        return next((r for r in (self.discovery, self.listing) if r.outcome == "ok" and r.status == 403), None)

    @property
    def entra(self) -> bool | None:
        """Whether the cluster uses Entra ID: ARM says, else a kubelogin kubeconfig says so; None: unknown."""
        if self.cluster is not None:
            return self.cluster.aad_managed
        return True if self.cred.kubelogin else None

    @property
    def shown_cluster(self) -> str:
        return self.name or "the cluster"

    @property
    def where_group(self) -> str:
        return self.group or "<resource-group>"

    @property
    def where_name(self) -> str:
        return self.name or "<cluster>"


# ---------------------------------------------------------------- the exec plugin gave nothing


def plugin_failed(view: View) -> list[Finding]:
    if view.discovery.outcome != "not-sent":
        return []
    why = view.discovery.error or "no credential"
    cred = view.cred
    installed = "not installed" not in why
    if installed and cred.kubelogin and cred.login in PROMPTING_LOGINS and not view.interactive:
        kubeconfig = _kubeconfig_file(cred.source)
        said = why.split(" (it had no terminal", 1)[0]  # the finding says the rest
        return [AUTH005.at(ID, hop=1, plugin=cred.plugin, login=f"--login {cred.login}", why=said,
                           kubeconfig=f" --kubeconfig {kubeconfig}" if kubeconfig else "",
                           evidence={"plugin": cred.plugin, "login": cred.login, "interactive": False,
                                     "interactive_mode": cred.interactive_mode})]  # fmt: skip
    if not installed and cred.kubelogin:
        fix = "Install kubelogin: `az aks install-cli` (kubectl and kubelogin), or from github.com/Azure/kubelogin."
    elif not installed:
        fix = f"Install {cred.plugin} (the kubeconfig's installHint says how), or fix the command's path."
    else:
        fix = (f"Run `kubectl get nodes` to see what {cred.plugin} says; for kubelogin, `kubelogin remove-tokens` "
               "clears a broken cache, and `az login` renews the session that -l azurecli uses.")  # fmt: skip
    return [AUTH006.at(ID, hop=1, why=why, fix=fix, evidence={"plugin": cred.plugin, "login": cred.login})]


def _kubeconfig_file(source: str) -> str:
    """The kubeconfig file named by ApiServerConfig.source (`PATH context NAME`)."""
    path, sep, _ = source.rpartition(" context ")
    return path if sep else ""


# ---------------------------------------------------------------- 401: the credential is refused


def refused(view: View) -> list[Finding]:
    answer = view.refused
    if answer is None:
        return []
    found = [*_auth004_local_account(view), *_auth008_expired(view), *_auth007_tenant(view), *_auth009_audience(view)]
    return found or [_auth001_refused(view)]


def _auth004_local_account(view: View) -> list[Finding]:
    cluster = view.cluster
    if cluster is None or not cluster.disable_local_accounts or not view.cred.local:
        return []
    return [AUTH004.at(ID, hop=2, server=view.server, credential=view.cred.shown, cluster=view.shown_cluster,
                       status="401 Unauthorized", group=view.where_group, name=view.where_name,
                       evidence={"credential": view.cred.kind, "disable_local_accounts": True})]  # fmt: skip


def _auth008_expired(view: View) -> list[Finding]:
    exp = view.cred.claims.get("exp")
    if view.cred.kind != "token" or not isinstance(exp, int | float) or not view.now:
        return []
    expired = EPOCH + datetime.timedelta(seconds=exp)  # from the claim, not the clock
    now = datetime.datetime.fromisoformat(view.now)
    if expired >= now:
        return []
    return [AUTH008.at(ID, hop=2, source=view.cred.source, expired=expired.isoformat(), now=view.now,
                       evidence={"exp": exp, "user": view.cred.who})]  # fmt: skip


def _auth007_tenant(view: View) -> list[Finding]:
    theirs, where = "", ""
    if view.cred.kind == "token" and view.cred.claims.get("tid"):
        theirs, where = str(view.cred.claims["tid"]), "the kubeconfig's token (its tid claim)"
    elif view.cred.kubelogin and view.cred.tenant_id and view.cred.login != "azurecli":
        theirs, where = view.cred.tenant_id, f"kubelogin's --tenant-id ({view.cred.source})"
    if not (theirs and view.tenant) or theirs.lower() == view.tenant.lower():
        return []
    return [AUTH007.at(ID, hop=2, where=where, theirs=theirs, tenant=view.tenant, cluster=view.shown_cluster,
                       group=view.where_group, name=view.where_name,
                       evidence={"kubeconfig_tenant": theirs, "cluster_tenant": view.tenant})]  # fmt: skip


def _auth009_audience(view: View) -> list[Finding]:
    if view.cluster is None or not view.cluster.aad_managed:
        return []
    theirs, where = "", ""
    if view.cred.kind == "token" and view.cred.claims.get("tid") and view.cred.claims.get("aud"):
        theirs, where = str(view.cred.claims["aud"]), "the kubeconfig's token (its aud claim)"
    elif view.cred.kubelogin and view.cred.server_id:
        theirs, where = view.cred.server_id, f"kubelogin's --server-id ({view.cred.source})"
    if not theirs or theirs.lower().removeprefix("spn:") == AKS_SERVER_ID:
        return []
    return [AUTH009.at(ID, hop=2, where=where, theirs=theirs, expected=AKS_SERVER_ID, cluster=view.shown_cluster,
                       group=view.where_group, name=view.where_name,
                       evidence={"server_id": theirs, "expected": AKS_SERVER_ID})]  # fmt: skip


def _auth001_refused(view: View) -> Finding:
    cred, group, name = view.cred, view.where_group, view.where_name
    context = ""
    if view.entra:
        context = " by an Entra ID cluster" + (f" of tenant {view.tenant}" if view.tenant else "")
    if cred.kubelogin:
        tenant = f" --tenant {view.tenant}" if view.tenant else ""
        fix = (f"Sign in again: `kubelogin remove-tokens`, `az login{tenant}`, then "
               f"`az aks get-credentials -g {group} -n {name} --overwrite-existing`.")  # fmt: skip
    elif cred.kind == "client-certificate":
        fix = (f"The cluster's certificates may have been rotated (`az aks rotate-certs`): get the kubeconfig again "
               f"with `az aks get-credentials -g {group} -n {name} --overwrite-existing`.")  # fmt: skip
    elif cred.kind == "token":
        fix = ("The token is no longer valid (revoked, expired, or for another cluster): use an exec plugin that "
               f"renews it (`az aks get-credentials -g {group} -n {name}`), or create a new one.")  # fmt: skip
    else:
        fix = f"Run `kubectl get nodes` to see what {cred.plugin} gives; get the kubeconfig again."
    return AUTH001.at(ID, hop=2, server=view.server, credential=cred.shown, context=context, fix=fix,
                      evidence={"credential": cred.kind, "plugin": cred.plugin, "login": cred.login})  # fmt: skip


# ---------------------------------------------------------------- 403: signed in, not authorized


def forbidden(view: View) -> list[Finding]:
    answer = view.forbidden
    if answer is None:
        return []
    said = _message(answer)
    match = FORBIDDEN.search(said)
    if match is None:
        user, verb, resource, namespace, reason = "the user", "list", "pods", view.namespace, ""
    else:
        user, verb, resource = match["user"], match["verb"], match["resource"]
        namespace, reason = match["namespace"] or "", match["reason"] or ""
    scope = f"in the namespace {namespace}" if namespace else "at the cluster scope"
    evidence: dict[str, object] = {
        "user": user,
        "verb": verb,
        "resource": resource,
        "namespace": namespace,
        "message": said[:500],
    }
    azure = IN_AZURE in reason or (view.cluster is not None and view.cluster.azure_rbac)
    if azure:
        cluster_id = view.cluster.id if view.cluster is not None else f"$(az aks show -g {view.where_group} -n {view.where_name} --query id -o tsv)"  # fmt: skip
        role = "Azure Kubernetes Service RBAC Reader" if verb in ("get", "list", "watch") else (
            "Azure Kubernetes Service RBAC Writer")  # fmt: skip
        scope_id = f"{cluster_id}/namespaces/{namespace}" if namespace else cluster_id
        return [AUTH002.at(ID, hop=3, user=user, verb=verb, resource=resource, scope=scope, said=said, role=role,
                           assignee=_quoted(user), scope_id=scope_id, evidence={**evidence, "azure_rbac": True})]  # fmt: skip
    return [_auth003(view, user, verb, resource, namespace, scope, said, evidence)]


def _auth003(
    view: View, user: str, verb: str, resource: str, namespace: str, scope: str, said: str, evidence: dict[str, object]
) -> Finding:
    ns = f" -n {namespace}" if namespace else ""
    kind = "rolebinding" if namespace else "clusterrolebinding"
    role = "view" if verb in ("get", "list", "watch") else "edit"
    admins = ""
    if view.entra:
        subject = "--group <the Entra group's object id>"
        fix = (f"Bind an Entra group {user} is in (by its object id, as the token's groups claim carries it) to a "
               f"role: `kubectl create {kind} {role}-access --clusterrole {role} {subject}{ns}` (as a cluster admin), "
               f"or bind the user alone with --user {_quoted(user)}.")  # fmt: skip
        if view.cluster is not None:
            ids = ", ".join(view.cluster.admin_group_ids)
            admins = (f" (the cluster's admin groups, adminGroupObjectIDs: {ids}; a member of one is cluster-admin)"
                      if ids else " (the cluster names no admin group: aadProfile.adminGroupObjectIDs is empty)")  # fmt: skip
            if ids:
                fix += f" To make {user} a cluster admin, add them to one of {ids}."
    else:
        subject = f"--user {_quoted(user)}"
        fix = f"Bind {user} to a role: `kubectl create {kind} {role}-access --clusterrole {role} {subject}{ns}`."
    command = f"kubectl create {kind} {role}-access --clusterrole {role} {subject}{ns}"
    return AUTH003.at(ID, hop=3, user=user, verb=verb, resource=resource, scope=scope, said=said, admins=admins,
                      fix=fix, command=command, evidence={**evidence, "azure_rbac": False})  # fmt: skip


def _message(answer: HttpResult) -> str:
    """The Status message of a refusal (the body is the API server's JSON Status), else the body's first line."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return (answer.body.strip().splitlines() or [f"HTTP {answer.status}"])[0][:300]


def _quoted(text: str) -> str:
    return text if re.fullmatch(r"[\w.@:-]+", text) else "'" + text.replace("'", "'\\''") + "'"
