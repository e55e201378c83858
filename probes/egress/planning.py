"""Planning: the cluster's list and the resolver first, then every name through the host's resolver, then TCP, TLS
and HTTP of every endpoint in one round — so three blackholed endpoints cost one timeout, not three."""

from __future__ import annotations

import re
from collections.abc import Hashable

from aksdiag.probes.apiserver.planning import stub_lookup
from aksdiag.probes.egress.endpoints import Target, dependencies_need, targets

from aksdiag.azfacts import AzureFacts, digest
from aksdiag.facts import (
    AzureContext,
    AzureDocument,
    DnsAnswer,
    HttpNeed,
    ResolverConfig,
    ResolverConfigNeed,
    TcpConnectNeed,
    TlsNeed,
)
from aksdiag.inputs import is_ip
from aksdiag.probe import Facts, Skip
from aksdiag.settings import Settings

RUN = "egress"
"""Settings.extra key the `egress` command sets ("run"): test whatever the cluster's state says."""
_EXIT_50 = re.compile(r"exit status=50\b|OutboundConnFailVMExtensionError", re.IGNORECASE)


def plan(target: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure and settings.azure not in facts:
        return [settings.azure]
    arm = azure_facts(settings, facts)
    why = reason_to_run(settings, arm)
    if not why:
        raise Skip("egress is tested when there is a reason (in a pod, --endpoint, or nodes that failed with CSE "
                   "exit 50): run `aksdiag egress`")  # fmt: skip
    first: list[Hashable] = [ResolverConfigNeed(settings.resolv_conf)]
    deps = dependencies_need(settings)
    if deps is not None:
        first.append(deps)
    if any(n not in facts for n in first):
        return first
    config = facts[first[0]]
    wanted = targets(settings, document(settings, facts), arm)
    queries: list[Hashable] = []
    for t in wanted:
        if not is_ip(t.name) and "*" not in t.name:  # a wildcard is no name to ask for
            queries += stub_lookup(t.name, config, facts)[0]
    if queries:
        return [*first, *queries]
    needs: list[Hashable] = list(first)
    for t in wanted:
        address = address_of(t, config, facts)
        if address:
            needs += net_needs(t, address, settings)
    return needs


def reason_to_run(settings: Settings, arm: AzureFacts | None) -> str:
    """Why egress is tested in this run ("" : no reason; check leaves the probe out)."""
    if settings.extra.get(RUN) == "run":
        return "asked"
    if settings.in_cluster:
        return "in a pod"
    if settings.endpoints:
        return "--endpoint"
    cluster = arm.cluster if arm is not None else None
    if cluster is not None:
        texts = [cluster.error_message, *(p.error_message for p in cluster.pools)]
        if any(_EXIT_50.search(t or "") for t in texts):
            return "nodes failed with CSE exit 50"
    return ""


def azure_facts(settings: Settings, facts: Facts) -> AzureFacts | None:
    ctx = facts.get(settings.azure) if settings.azure else None
    return digest(ctx) if isinstance(ctx, AzureContext) and ctx.cluster is not None else None


def document(settings: Settings, facts: Facts) -> AzureDocument | None:
    need = dependencies_need(settings)
    found = facts.get(need) if need is not None else None
    return found if isinstance(found, AzureDocument) else None


def answer_of(t: Target, config: ResolverConfig, facts: Facts) -> DnsAnswer | None:
    """What the host's resolver gets for the name: the first conclusive answer, else the first (None: unasked)."""
    missing, answers = stub_lookup(t.name, config, facts)
    if missing or not answers:
        return None
    return next((a for a in answers if a.outcome.conclusive), answers[0])


def address_of(t: Target, config: ResolverConfig, facts: Facts) -> str:
    """The address a client connects to first ("" when the name has none, or the endpoint is only shown)."""
    if not t.how:
        return ""
    if is_ip(t.name):
        return t.name
    answer = answer_of(t, config, facts)
    return answer.addresses[0] if answer is not None and answer.addresses else ""


def net_needs(t: Target, address: str, settings: Settings) -> list[Hashable]:
    needs: list[Hashable] = [TcpConnectNeed(address, t.port)]
    if t.how == "https":
        needs += [tls_need(t, address, settings), http_need(t, address)]
    return needs


def tls_need(t: Target, address: str, settings: Settings) -> TlsNeed:
    """Public endpoints: the system store, or --tls-ca-bundle (the lab's CA). The API server is signed by the
    cluster's own CA: the kubeconfig's when there is one, else its chain is not judged here (the apiserver probe's)."""
    sni = "" if is_ip(t.name) else t.name
    if t.category == "apiserver":
        config = settings.apiserver
        if config is None or config.insecure or not config.ca_pem:
            return TlsNeed(address, t.port, sni, None, verify=False)
        return TlsNeed(address, t.port, sni, config.ca_pem)
    return TlsNeed(address, t.port, sni, None, ca_file=settings.tls_ca_bundle)


def http_need(t: Target, address: str) -> HttpNeed:
    return HttpNeed(address, t.port, t.name, t.path)
