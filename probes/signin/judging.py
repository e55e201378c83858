"""Judging: the sign-in view built once from the facts (the kubeconfig's credential, the two answers, the cluster's
Entra ID settings), the rules over it, and the hops a report draws: credential → authenticated → authorized."""

from __future__ import annotations

from aksdiag.probes.apiserver.planning import addresses_to_test, at
from aksdiag.probes.signin import credential, rules
from aksdiag.probes.signin.planning import http_needs, namespace_of

from aksdiag.azfacts import digest
from aksdiag.facts import AzureContext, Clock, ClockNeed, HttpResult
from aksdiag.model import Hop, Status
from aksdiag.probe import Facts, Judgement
from aksdiag.settings import Settings


def view_of(settings: Settings, facts: Facts) -> rules.View:
    config = settings.apiserver
    assert config is not None
    address = (addresses_to_test(config.host, settings, facts) or [""])[0]
    discovery, listing = (facts.get(n) for n in http_needs(address, settings))
    clock = facts.get(ClockNeed())
    ctx = facts.get(settings.azure) if settings.azure else None
    cluster, tenant = None, ""
    if isinstance(ctx, AzureContext) and ctx.cluster is not None:
        cluster = digest(ctx).cluster
        aad = (ctx.cluster.get("properties") or {}).get("aadProfile") or {}
        tenant = str(aad.get("tenantID") or "")
    missing = HttpResult("not-sent", error="not asked")
    return rules.View(
        cred=credential.of(config), server=config.server, at=at(address, config.port),
        discovery=discovery if isinstance(discovery, HttpResult) else missing,
        listing=listing if isinstance(listing, HttpResult) else missing,
        namespace=namespace_of(settings), now=clock.utc if isinstance(clock, Clock) else "",
        interactive=settings.interactive, cluster=cluster, tenant=tenant,
        group=settings.azure.resource_group if settings.azure else "",
        name=settings.azure.cluster if settings.azure else "",
    )  # fmt: skip


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    view = view_of(settings, facts)
    findings = [*rules.plugin_failed(view), *rules.refused(view), *rules.forbidden(view)]
    return Judgement(hops=_hops(view), findings=tuple(findings), facts=_summary(view))


def _hops(view: rules.View) -> tuple[Hop, ...]:
    cred = view.cred
    gave = view.discovery.outcome != "not-sent"
    first = Hop(1, "credential", cred.shown, Status.OK if gave else Status.FAIL, rcode=None if gave else "not-sent",
                detail=cred.source if gave else (view.discovery.error or ""))  # fmt: skip
    return (
        first,
        _answer(2, "authentication", "GET /api", view.discovery, view.at),
        _answer(3, "authorization", f"list pods in {view.namespace}", view.listing, view.at),
    )


def _answer(index: int, kind: str, name: str, result: HttpResult, at: str) -> Hop:
    if result.outcome != "ok":
        return Hop(index, kind, name, Status.SKIPPED, server=at, rcode=result.outcome, detail="no credential to send")
    status = result.status or 0
    if status in (401, 403):
        verdict, detail = (
            Status.FAIL,
            "401 Unauthorized: the credential is refused" if status == 401 else "403 Forbidden",
        )
    elif status < 400:
        verdict, detail = Status.OK, f"HTTP {status}"
    else:
        verdict, detail = Status.WARN, f"HTTP {status}: not a sign-in answer"
    return Hop(index, kind, name, verdict, server=at, rcode=str(status), elapsed_ms=result.elapsed_ms, detail=detail)


def _summary(view: rules.View) -> dict[str, object]:
    cluster = view.cluster
    return {
        "credential": view.cred.kind, "plugin": view.cred.plugin, "login": view.cred.login,
        "namespace": view.namespace, "interactive": view.interactive,
        "discovery": view.discovery.status, "list": view.listing.status,
        "entra": view.entra, "azure_rbac": cluster.azure_rbac if cluster is not None else None,
        "disable_local_accounts": cluster.disable_local_accounts if cluster is not None else None,
        "tenant": view.tenant,
    }  # fmt: skip
