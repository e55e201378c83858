"""AUTH codes: signing in to the API server — credentials refused (401) or not authorized (403), with the why that
Entra ID (aadProfile, Azure RBAC, disableLocalAccounts) and the kubeconfig's exec plugin (kubelogin) give (issue 15)."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_ENTRA = "https://learn.microsoft.com/azure/aks/enable-authentication-microsoft-entra-id"
_AZURE_RBAC = "https://learn.microsoft.com/azure/aks/manage-azure-rbac"
_KUBE_RBAC = "https://learn.microsoft.com/azure/aks/azure-ad-rbac"
_LOCAL = "https://learn.microsoft.com/azure/aks/manage-local-accounts-managed-azure-ad"
_KUBELOGIN = "https://learn.microsoft.com/azure/aks/kubelogin-authentication"

AUTH001 = Code(
    id="AUTH001",
    severity=Severity.ERROR,
    title="The API server refuses the kubeconfig's credentials (401)",
    summary=(
        "The API server answered 401 Unauthorized to a request that carried the kubeconfig's credential: it does not "
        "accept who the token or certificate says it is (expired, revoked, issued for another tenant or audience, or "
        "a certificate from before the cluster's certificates were rotated). Nothing more specific was seen."
    ),
    fix="Get fresh credentials (`az aks get-credentials`), and sign in to the cluster's tenant.",
    detail="{server}: {credential} was refused (401 Unauthorized){context}.",
    remediation="{fix}",
    docs=_ENTRA,
)

AUTH002 = Code(
    id="AUTH002",
    severity=Severity.ERROR,
    title="Signed in, but Azure RBAC does not authorize the user (403)",
    summary=(
        "The API server knows who the user is, but answered 403: on an Entra ID cluster with Azure RBAC for "
        "Kubernetes authorization, Azure role assignments on the cluster (or one of its namespaces) decide, and the "
        "user (or a group of theirs) has none that allows the request."
    ),
    fix="Assign an `Azure Kubernetes Service RBAC …` role to the user or their group at the cluster or namespace scope.",
    detail="{user} cannot {verb} {resource} {scope}: {said}",
    remediation=(
        "Give {user} (or better, an Entra group they are in) a data-plane role at that scope; role assignments take "
        "up to five minutes to apply. A Kubernetes RoleBinding works too: Azure RBAC and Kubernetes RBAC are "
        "both consulted."
    ),
    command='az role assignment create --role "{role}" --assignee {assignee} --scope {scope_id}',
    docs=_AZURE_RBAC,
)

AUTH003 = Code(
    id="AUTH003",
    severity=Severity.ERROR,
    title="Signed in, but no Kubernetes RoleBinding authorizes the user (403)",
    summary=(
        "The API server knows who the user is, but answered 403: Kubernetes RBAC decides (Azure RBAC is off), and no "
        "RoleBinding or ClusterRoleBinding binds the user, or an Entra group of theirs, to a role that allows the "
        "request. On an Entra ID cluster, the groups in aadProfile.adminGroupObjectIDs are cluster admins."
    ),
    fix="Bind the user's Entra group (by object id) to a role with a RoleBinding, or add the user to an admin group.",
    detail="{user} cannot {verb} {resource} {scope}: {said}{admins}",
    remediation="{fix}",
    command="{command}",
    docs=_KUBE_RBAC,
)

AUTH004 = Code(
    id="AUTH004",
    severity=Severity.ERROR,
    title="A local account's credential on a cluster with local accounts disabled",
    summary=(
        "The cluster sets disableLocalAccounts: the static credentials (the admin client certificate of "
        "`az aks get-credentials --admin`, a static token) are refused, and every user signs in with Entra ID "
        "through kubelogin. The kubeconfig still holds such a credential."
    ),
    fix="Get a user kubeconfig (`az aks get-credentials` without --admin) and sign in with kubelogin.",
    detail="{server}: the kubeconfig signs in with {credential}, and {cluster} disables local accounts: refused ({status}).",
    remediation=(
        "Fetch the Entra ID kubeconfig and convert it for a sign-in without a prompt: "
        "`az aks get-credentials -g {group} -n {name} --overwrite-existing` then "
        "`kubelogin convert-kubeconfig -l azurecli` (after `az login`)."
    ),
    docs=_LOCAL,
)

AUTH005 = Code(
    id="AUTH005",
    severity=Severity.ERROR,
    title="kubelogin asks for a device-code login, and there is no terminal to show it on",
    summary=(
        "The kubeconfig runs kubelogin with --login devicecode (what `az aks get-credentials` writes): it prints a "
        "code for the user to enter in a browser and waits. In a non-interactive shell (a pipeline, a script, a "
        "cron job) nobody sees it, so no token comes; Conditional Access often blocks device code too."
    ),
    fix="`kubelogin convert-kubeconfig -l azurecli` after `az login` (or -l msi / -l workloadidentity / -l spn).",
    detail="{plugin} {login} gave no credential without a terminal: {why}",
    remediation=(
        "Convert the kubeconfig to a login that needs no prompt: `kubelogin convert-kubeconfig -l azurecli` (uses "
        "`az login`'s session); in a pipeline on Azure, -l msi or -l workloadidentity; with a service principal, "
        "-l spn. Or run from a terminal, where the device code can be entered."
    ),
    command="kubelogin convert-kubeconfig -l azurecli{kubeconfig}",
    docs=_KUBELOGIN,
)

AUTH006 = Code(
    id="AUTH006",
    severity=Severity.ERROR,
    title="The kubeconfig's exec plugin gives no credential",
    summary=(
        "The kubeconfig gets its credential from an exec plugin (kubelogin on Entra ID clusters) and the plugin did "
        "not give one: it is not installed, it failed, or it did not answer in time. kubectl fails the same way."
    ),
    fix="Install the plugin (`az aks install-cli` installs kubelogin), or run `kubectl get nodes` to see its error.",
    detail="{why}",
    remediation="{fix}",
    docs=_KUBELOGIN,
)

AUTH007 = Code(
    id="AUTH007",
    severity=Severity.ERROR,
    title="The kubeconfig signs in to another Entra tenant than the cluster's",
    summary=(
        "The cluster trusts tokens from one Entra tenant (aadProfile.tenantID); the kubeconfig's token, or the tenant "
        "kubelogin is told to sign in to, is another one, so the API server refuses the token (401)."
    ),
    fix="Sign in to the cluster's tenant: `az aks get-credentials` again, or `az login --tenant <tenantID>`.",
    detail="{where} names tenant {theirs}; the cluster {cluster} trusts tenant {tenant}: refused (401).",
    remediation=(
        "Get the kubeconfig again (`az aks get-credentials -g {group} -n {name} --overwrite-existing`) or fix the "
        "tenant it names to {tenant}; with -l azurecli, `az login --tenant {tenant}`."
    ),
    docs=_ENTRA,
)

AUTH008 = Code(
    id="AUTH008",
    severity=Severity.ERROR,
    title="The kubeconfig's static token has expired",
    summary=(
        "The kubeconfig holds a bearer token (a JWT) whose expiry (exp) has passed, so the API server refuses it "
        "(401). Tokens pasted into a kubeconfig do not renew themselves; an exec plugin (kubelogin) fetches new ones."
    ),
    fix="Replace the static token with an exec plugin that renews it (kubelogin), or fetch a fresh token.",
    detail="{source}: the token expired at {expired} (the run looked at {now}): refused (401).",
    remediation=(
        "Use `az aks get-credentials` (kubelogin renews the token), then `kubelogin convert-kubeconfig -l azurecli`; "
        "for a service account, create a new token (`kubectl create token NAME`)."
    ),
    docs=_KUBELOGIN,
)

AUTH009 = Code(
    id="AUTH009",
    severity=Severity.ERROR,
    title="kubelogin asks for a token for the wrong audience (server id)",
    summary=(
        "On a cluster with AKS-managed Entra integration, the API server accepts tokens issued for the AKS Entra "
        "server application (6dae42f8-4368-4678-94ff-3960e28e3630). The kubeconfig asks for another audience (a "
        "legacy server app, a copied --server-id), so its tokens are refused (401)."
    ),
    fix="Get the kubeconfig again with `az aks get-credentials`, or set --server-id 6dae42f8-4368-4678-94ff-3960e28e3630.",
    detail="{where} asks for audience {theirs}; {cluster} accepts {expected}: refused (401).",
    remediation=(
        "Run `az aks get-credentials -g {group} -n {name} --overwrite-existing` (it writes the right --server-id), "
        "or fix the kubelogin argument to --server-id {expected}."
    ),
    docs=_ENTRA,
)
