"""signin judged from facts built by hand: a kubeconfig's credential, the API server's answers to GET /api and to a
list of pods, and the cluster's Entra ID settings. Each world is broken one way and raises exactly its code; the
healthy ones raise nothing. The end-to-end runs against the fake API server are in tests/test_signin_e2e.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

import pytest
from aksdiag.probes import signin
from aksdiag.probes.signin import credential

from aksdiag.facts import AzureContext, AzureContextNeed, Clock, ClockNeed, HttpNeed, HttpResult, ResolverConfigNeed
from aksdiag.model import Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings
from aksdiag.sources.kubeconfig import ApiServerConfig

ADDRESS = "10.224.0.4"
NOW = "2026-06-01T12:00:00+00:00"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
ADMIN_GROUP = "f7f1a3c6-1c6b-4b6a-9d2a-6d1f3e2a7b10"
AZURE = AzureContextNeed("00000000-0000-0000-0000-000000000000", "rg-aks", "aks-lab", "https://127.0.0.1:1")
CLUSTER_ID = AZURE.cluster_id
USER = "alice@contoso.com"
KUBELOGIN = ("/usr/local/bin/kubelogin", "get-token", "--login", "devicecode", "--server-id", credential.AKS_SERVER_ID,
             "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT,
             "--environment", "AzurePublicCloud")  # fmt: skip
AZ_FORBIDDEN = (f'pods is forbidden: User "{USER}" cannot list resource "pods" in API group "" in the namespace '
                '"default": User does not have access to the resource in Azure. Update role assignment to allow access.')  # fmt: skip
KUBE_FORBIDDEN = (
    f'pods is forbidden: User "{USER}" cannot list resource "pods" in API group "" in the namespace "team-a"'
)


def jwt(**claims: Any) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def config(**kw: Any) -> ApiServerConfig:
    base: dict[str, Any] = {"server": f"https://{ADDRESS}:443", "source": "/home/a/.kube/config context aks-lab",
                            "ca_pem": "CA"}  # fmt: skip
    return ApiServerConfig(**{**base, **kw})


def exec_config(*args: str, **kw: Any) -> ApiServerConfig:
    return config(exec_command=args or KUBELOGIN, exec_api_version="client.authentication.k8s.io/v1beta1", **kw)


def cluster(azure_rbac: bool = True, local_disabled: bool = True, entra: bool = True, admins: tuple[str, ...] = (ADMIN_GROUP,)) -> dict[str, Any]:  # fmt: skip
    props: dict[str, Any] = {"disableLocalAccounts": local_disabled, "enableRBAC": True}
    if entra:
        props["aadProfile"] = {"managed": True, "enableAzureRBAC": azure_rbac, "adminGroupObjectIDs": list(admins),
                               "tenantID": TENANT}  # fmt: skip
    return {"id": CLUSTER_ID, "name": "aks-lab", "location": "koreacentral", "properties": props}


def ok(body: str = "{}") -> HttpResult:
    return HttpResult("ok", 200, body, 3.0)


def status(code: int, message: str) -> HttpResult:
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code})
    return HttpResult("ok", code, body, 2.0)


UNAUTHORIZED = status(401, "Unauthorized")


def run(
    cfg: ApiServerConfig,
    discovery: HttpResult | None = None,
    listing: HttpResult | None = None,
    body: dict[str, Any] | None = None,
    interactive: bool = False,
) -> Judgement:
    """Plan until nothing is missing (answering each need from the world), then judge."""
    settings = Settings(apiserver=cfg, azure=AZURE if body is not None else None, interactive=interactive)
    discovery = discovery or ok()
    facts: dict[Hashable, Any] = {}
    for _ in range(5):
        needs = signin.plan("", settings, facts)
        missing = [n for n in needs if n not in facts]
        if not missing:
            break
        for need in missing:
            same = discovery if discovery.outcome == "not-sent" else ok()  # no credential: neither is sent
            facts[need] = answer(need, discovery, listing or same, body)
    return signin.judge("", settings, facts)


def answer(need: Hashable, discovery: HttpResult, listing: HttpResult, body: dict[str, Any] | None) -> Any:
    if isinstance(need, AzureContextNeed):
        return AzureContext(need, cluster=body)
    if isinstance(need, ClockNeed):
        return Clock(NOW)
    if isinstance(need, HttpNeed):
        assert need.authenticated and need.address == ADDRESS
        return discovery if need.path == "/api" else listing
    raise AssertionError(f"unexpected need {need}")


def codes(j: Judgement) -> list[str]:
    return [f.id for f in j.findings]


# ---------------------------------------------------------------- healthy: nothing raised


@pytest.mark.parametrize(
    "cfg",
    [config(token="opaque-token"), config(client_cert_pem="C", client_key_pem="K"), exec_config(),
     config(token=jwt(tid=TENANT, aud=credential.AKS_SERVER_ID, exp=1893456000, upn=USER))],
    ids=["token", "client-certificate", "kubelogin", "entra-jwt"],
)  # fmt: skip
@pytest.mark.parametrize("body", [None, cluster(local_disabled=False)], ids=["no-azure", "entra-cluster"])
def test_a_healthy_sign_in_raises_nothing(cfg: ApiServerConfig, body: dict[str, Any] | None) -> None:
    j = run(cfg, body=body)
    assert codes(j) == []
    assert [h.status for h in j.hops] == [Status.OK, Status.OK, Status.OK]
    assert j.facts["discovery"] == 200 and j.facts["list"] == 200


def test_the_list_is_in_the_contexts_namespace() -> None:
    settings = Settings(apiserver=config(token="t", namespace="team a"))
    needs = signin.plan("", settings, {})
    assert [n.path for n in needs if isinstance(n, HttpNeed)] == ["/api", "/api/v1/namespaces/team%20a/pods?limit=1"]


def test_a_name_is_resolved_first_as_the_apiserver_probe_does() -> None:
    settings = Settings(apiserver=config(token="t", server="https://api.lab.example:443"), resolv_conf="/lab/r")
    assert signin.plan("", settings, {}) == [ResolverConfigNeed("/lab/r")]


@pytest.mark.parametrize(
    ("settings", "why"),
    [(Settings(), "no kubeconfig"), (Settings(extra={"kube_error": "the kubeconfig x is missing"}), "x is missing"),
     (Settings(apiserver=config(source="in-cluster service account", token="t")), "in a pod"),
     (Settings(apiserver=config()), "nothing to sign in with")],
)  # fmt: skip
def test_skipped_with_the_reason(settings: Settings, why: str) -> None:
    with pytest.raises(Skip, match=why):
        signin.plan("", settings, {})


@pytest.mark.parametrize("outcome", ["timeout", "refused", "tls-error"])
def test_an_api_server_that_does_not_answer_is_the_apiserver_probes_to_judge(outcome: str) -> None:
    with pytest.raises(Skip, match="the apiserver probe says why"):
        run(config(token="t"), discovery=HttpResult(outcome, error="no answer within 2 s"))


# ---------------------------------------------------------------- the exec plugin gave nothing


NO_TERMINAL = ("exec plugin kubelogin gave no credential within 20 s (it had no terminal: if it prompts for a login, "
               "as kubelogin's device code does, run aksdiag from a terminal, or log in first without a prompt)")  # fmt: skip


def test_device_code_without_a_terminal_is_auth005() -> None:
    j = run(exec_config(), discovery=HttpResult("not-sent", error=NO_TERMINAL), body=cluster())
    assert codes(j) == ["AUTH005"]
    finding = j.findings[0]
    assert finding.command == "kubelogin convert-kubeconfig -l azurecli --kubeconfig /home/a/.kube/config"
    assert finding.detail == ("kubelogin --login devicecode gave no credential without a terminal: exec plugin "
                              "kubelogin gave no credential within 20 s")  # fmt: skip
    assert finding.evidence["login"] == "devicecode"
    assert [h.status for h in j.hops] == [Status.FAIL, Status.SKIPPED, Status.SKIPPED]


def test_kubelogin_without_login_flag_is_device_code() -> None:
    args = tuple(a for a in KUBELOGIN if a not in ("--login", "devicecode"))
    assert codes(run(exec_config(*args), discovery=HttpResult("not-sent", error=NO_TERMINAL))) == ["AUTH005"]


def test_with_a_terminal_a_failed_device_code_is_auth006() -> None:
    j = run(exec_config(), discovery=HttpResult("not-sent", error="exec plugin kubelogin exited 1 (…)"),
            interactive=True)  # fmt: skip
    assert codes(j) == ["AUTH006"]


@pytest.mark.parametrize(
    ("args", "why", "fix"),
    [((*KUBELOGIN[:1], "get-token", "--login", "azurecli"), "exec plugin /usr/local/bin/kubelogin is not installed",
      "az aks install-cli"),
     (("aws", "eks", "get-token"), "exec plugin aws exited 255 (…)", "kubectl get nodes")],
)  # fmt: skip
def test_a_plugin_that_gives_nothing_is_auth006(args: tuple[str, ...], why: str, fix: str) -> None:
    j = run(exec_config(*args), discovery=HttpResult("not-sent", error=why))
    assert codes(j) == ["AUTH006"] and fix in j.findings[0].remediation and j.findings[0].detail == why


def test_a_request_not_sent_for_another_reason_is_skipped() -> None:
    with pytest.raises(Skip, match="proxy"):
        run(exec_config(), discovery=HttpResult("not-sent", error="the proxy http://10.0.0.1 is not loopback"))


# ---------------------------------------------------------------- 401: refused, and why


def test_a_refused_token_with_no_more_to_say_is_auth001() -> None:
    j = run(config(token="opaque"), discovery=UNAUTHORIZED, listing=UNAUTHORIZED)
    assert codes(j) == ["AUTH001"]
    assert "a static bearer token was refused (401 Unauthorized)" in j.findings[0].detail
    assert j.hops[1].status is Status.FAIL


def test_refused_kubelogin_says_sign_in_to_the_clusters_tenant() -> None:
    args = (*KUBELOGIN[:2], "--login", "azurecli", "--server-id", credential.AKS_SERVER_ID)
    j = run(exec_config(*args), discovery=UNAUTHORIZED, body=cluster())
    assert codes(j) == ["AUTH001"]
    assert f"az login --tenant {TENANT}" in j.findings[0].remediation and "Entra ID cluster" in j.findings[0].detail


def test_an_admin_certificate_on_a_cluster_without_local_accounts_is_auth004() -> None:
    cert = config(client_cert_pem="C", client_key_pem="K")
    j = run(cert, discovery=UNAUTHORIZED, body=cluster(local_disabled=True))
    assert codes(j) == ["AUTH004"]
    assert "az aks get-credentials -g rg-aks -n aks-lab" in j.findings[0].remediation
    assert codes(run(cert, discovery=UNAUTHORIZED, body=cluster(local_disabled=False))) == ["AUTH001"]
    assert codes(run(config(token="0f3c9a"), discovery=UNAUTHORIZED, body=cluster())) == ["AUTH004"]
    service_account = config(
        token=jwt(iss="https://kubernetes", sub="system:serviceaccount:ci:deployer", exp=1893456000)
    )
    assert codes(run(service_account, discovery=UNAUTHORIZED, body=cluster())) == ["AUTH001"], "not a local account"


def test_an_expired_static_token_is_auth008() -> None:
    j = run(config(token=jwt(exp=1700000000, sub="system:serviceaccount:ci:deployer")), discovery=UNAUTHORIZED)
    assert codes(j) == ["AUTH008"]
    assert "2023-11-14T22:13:20+00:00" in j.findings[0].detail
    assert "jwt" not in json.dumps(j.findings[0].evidence).lower() and "c2lnbmF0dXJl" not in repr(j.findings[0])
    fresh = config(token=jwt(exp=1893456000, sub="x"))
    assert codes(run(fresh, discovery=UNAUTHORIZED)) == ["AUTH001"], "a token still valid: another reason"


def test_another_tenant_is_auth007() -> None:
    args = tuple(OTHER_TENANT if a == TENANT else a for a in KUBELOGIN)
    j = run(exec_config(*args), discovery=UNAUTHORIZED, body=cluster())
    assert codes(j) == ["AUTH007"]
    assert OTHER_TENANT in j.findings[0].detail and TENANT in j.findings[0].detail
    token = config(token=jwt(tid=OTHER_TENANT, aud=credential.AKS_SERVER_ID, exp=1893456000))
    assert codes(run(token, discovery=UNAUTHORIZED, body=cluster())) == ["AUTH007"]
    assert codes(run(exec_config(*args), discovery=UNAUTHORIZED)) == ["AUTH001"], "no Azure context: tenant unknown"


def test_a_wrong_server_id_is_auth009() -> None:
    legacy = "00000002-0000-0000-c000-000000000000"
    args = tuple(legacy if a == credential.AKS_SERVER_ID else a for a in KUBELOGIN)
    j = run(exec_config(*args), discovery=UNAUTHORIZED, body=cluster())
    assert codes(j) == ["AUTH009"] and legacy in j.findings[0].detail
    assert codes(run(exec_config(*args), discovery=ok(), body=cluster())) == [], "accepted: nothing to say"


# ---------------------------------------------------------------- 403: signed in, not authorized


def test_forbidden_with_azure_rbac_is_auth002_with_the_role_assignment() -> None:
    j = run(exec_config(), listing=status(403, AZ_FORBIDDEN), body=cluster())
    assert codes(j) == ["AUTH002"]
    finding = j.findings[0]
    assert finding.command == (f'az role assignment create --role "Azure Kubernetes Service RBAC Reader" --assignee '
                               f"{USER} --scope {CLUSTER_ID}/namespaces/default")  # fmt: skip
    assert finding.evidence["user"] == USER and [h.status for h in j.hops] == [Status.OK, Status.OK, Status.FAIL]


def test_forbidden_in_azure_is_auth002_without_azure_context_too() -> None:
    j = run(exec_config(), listing=status(403, AZ_FORBIDDEN))
    assert codes(j) == ["AUTH002"] and "$(az aks show" in (j.findings[0].command or "")


def test_forbidden_with_kubernetes_rbac_is_auth003_naming_the_admin_groups() -> None:
    j = run(exec_config(namespace="team-a"), listing=status(403, KUBE_FORBIDDEN), body=cluster(azure_rbac=False))
    assert codes(j) == ["AUTH003"]
    finding = j.findings[0]
    assert finding.command == ("kubectl create rolebinding view-access --clusterrole view --group <the Entra group's "
                               "object id> -n team-a")  # fmt: skip
    assert ADMIN_GROUP in finding.detail and ADMIN_GROUP in finding.remediation
    empty = run(exec_config(namespace="team-a"), listing=status(403, KUBE_FORBIDDEN),
                body=cluster(azure_rbac=False, admins=()))  # fmt: skip
    assert "names no admin group" in empty.findings[0].detail


def test_forbidden_on_a_cluster_without_entra_binds_the_user() -> None:
    message = 'pods is forbidden: User "clusterUser" cannot list resource "pods" in API group "" at the cluster scope'
    j = run(config(token="opaque"), listing=status(403, message), body=cluster(entra=False, local_disabled=False))
    assert codes(j) == ["AUTH003"]
    assert (
        j.findings[0].command == "kubectl create clusterrolebinding view-access --clusterrole view --user clusterUser"
    )


def test_a_server_error_is_no_sign_in_finding() -> None:
    j = run(config(token="t"), listing=status(500, "etcdserver: request timed out"))
    assert codes(j) == [] and j.hops[2].status is Status.WARN


def test_credential_reads_kubelogin_args_and_never_keeps_the_token() -> None:
    token = jwt(tid=TENANT, aud="x", exp=1, upn=USER, secret="s3")
    cred = credential.of(config(token=token))
    assert (cred.kind, cred.who, cred.claims.get("secret")) == ("token", USER, None)
    assert token not in repr(cred)
    cred = credential.of(exec_config(*KUBELOGIN[:2], "-l=spn", "--tenant-id", TENANT, "-t", OTHER_TENANT))
    assert (cred.plugin, cred.login, cred.tenant_id) == ("kubelogin", "spn", OTHER_TENANT)
    assert credential.claims_of("not.a-jwt.at-all") == {} and credential.claims_of("opaque") == {}


def test_the_probe_is_in_check_after_the_apiserver() -> None:
    assert "check" in signin.PROBE.commands and signin.PROBE.order == 31
    assert replace(Settings(), interactive=True).interactive
