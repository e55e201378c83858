"""apiserver: can this host reach the API server, does its certificate fit, and is it healthy?

Hops: the name → its addresses (through the host resolver) → TCP to each address and port → the TLS handshake
(chain against the cluster's CA, the certificate's names and dates) → /readyz and /livez (anonymous: a 401 or
403 still proves reachability; with the kubeconfig's credentials: the health detail).
"""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress
import re
from collections.abc import Hashable
from typing import Any

from aksdiag import codes
from aksdiag.armview import name_of, node_subnet_ids, parse_id, props, subnet, vnet_prefixes
from aksdiag.facts import (
    AzureContext,
    Clock,
    ClockNeed,
    DnsQuery,
    DnsResult,
    HttpNeed,
    HttpResult,
    ResolverConfig,
    ResolverConfigNeed,
    TcpConnect,
    TcpConnectNeed,
    TlsNeed,
    TlsPeer,
)
from aksdiag.inputs import is_ip
from aksdiag.model import Finding, Hop, Status
from aksdiag.nsg import AZURE_LOAD_BALANCER, Flow, evaluate
from aksdiag.probe import Facts, Judgement, Probe, Skip
from aksdiag.settings import Settings

ID = "apiserver"
HEALTH_PATHS = ("/readyz?verbose", "/livez?verbose")


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    if settings.azure and settings.azure not in facts:
        return [settings.azure]
    name = _name(name, settings, facts)
    if not name:
        why = settings.extra.get("kube_error")
        raise Skip(f"no API server: {why}" if why else "no API server: pass --fqdn or --kubeconfig (or run in a pod)")
    addresses = _addresses(name, settings, facts)
    if addresses is None:  # resolve first
        need = ResolverConfigNeed(settings.resolv_conf)
        config = facts.get(need)
        if config is None:
            return [need]
        return [need, *(DnsQuery(s, name, "A", "udp") for s in _nameservers(config))]
    needs: list[Hashable] = [ClockNeed()]  # the certificate's dates are judged against the run's clock
    sni = _sni(name, settings)
    for address in addresses:
        for port in _ports(settings, facts):
            needs.append(TcpConnectNeed(address, port))
        main_port = _ports(settings, facts)[0]
        needs.append(_tls_need(address, main_port, sni, settings))
        for path in HEALTH_PATHS:
            needs.append(HttpNeed(address, main_port, sni or address, path))
            if _has_credentials(settings):
                needs.append(HttpNeed(address, main_port, sni or address, path, authenticated=True))
    return needs


def _sni(name: str, settings: Settings) -> str:
    """The name sent as SNI, which the certificate must name: the kubeconfig's tls-server-name when it sets one
    (as kubectl verifies it), else the name used (none for an address)."""
    config = settings.apiserver
    if config is not None and config.tls_server_name:
        return config.tls_server_name
    return "" if is_ip(name) else name


def _tls_need(address: str, port: int, sni: str, settings: Settings) -> TlsNeed:
    """Verify against the kubeconfig's CA; without a kubeconfig no CA is known and the chain is not judged
    (an AKS API server is signed by a per-cluster CA that no system store trusts)."""
    config = settings.apiserver
    if config is None or config.insecure:
        return TlsNeed(address, port, sni, None, verify=False)
    return TlsNeed(address, port, sni, config.ca_pem)


def _nameservers(config: ResolverConfig) -> list[Any]:
    return list(config.nameservers) if not config.error else []


def _addresses(name: str, settings: Settings, facts: Facts) -> list[str] | None:
    """The addresses to test: --address, the name itself if it is an IP, or what the resolver answered."""
    if settings.addresses:
        return list(settings.addresses)
    if is_ip(name):
        return [name]
    config = facts.get(ResolverConfigNeed(settings.resolv_conf))
    if config is None:
        return None
    results = [facts.get(DnsQuery(s, name, "A", "udp")) for s in _nameservers(config)]
    if any(r is None for r in results):
        return None
    for result in results:
        if isinstance(result, DnsResult) and result.first.outcome.conclusive:
            return list(result.first.addresses)
    return []


def _has_credentials(settings: Settings) -> bool:
    c = settings.apiserver
    return bool(c and (c.token or c.client_cert_pem or c.exec_command))


# ---------------------------------------------------------------- judging


def _ports(settings: Settings, facts: Facts) -> tuple[int, ...]:
    """--port, or 443 — and 4443 too when Azure says the API server is VNet-integrated."""
    if settings.ports:
        return settings.ports
    ctx = facts.get(settings.azure) if settings.azure else None
    if isinstance(ctx, AzureContext) and (props(ctx.cluster).get("apiServerAccessProfile") or {}).get(
        "enableVnetIntegration"
    ):
        return (443, 4443)
    return (443,)


def _cluster_name(settings: Settings, facts: Facts) -> str:
    ctx = facts.get(settings.azure) if settings.azure else None
    if not isinstance(ctx, AzureContext) or ctx.cluster is None:
        return ""
    return str(props(ctx.cluster).get("privateFQDN") or props(ctx.cluster).get("fqdn") or "").lower()


def _name(name: str, settings: Settings, facts: Facts) -> str:
    """The name to test: given, the cluster's FQDN from Azure, or the kubeconfig's server host."""
    return name or _cluster_name(settings, facts) or (settings.apiserver.host if settings.apiserver else "")


def judge(name: str, settings: Settings, facts: Facts) -> Judgement:
    name = _name(name, settings, facts)
    addresses = _addresses(name, settings, facts) or []
    hops: list[Hop] = []
    findings: list[Finding] = []
    hops.append(_dns_hop(name, settings, facts, addresses, findings))
    sni = _sni(name, settings)
    for address in addresses:
        for port in _ports(settings, facts):
            tcp: TcpConnect = facts[TcpConnectNeed(address, port)]
            hops.append(_tcp_hop(len(hops) + 1, address, port, tcp, findings))
        main_port = _ports(settings, facts)[0]
        need = _tls_need(address, main_port, sni, settings)
        tcp = facts[TcpConnectNeed(address, main_port)]
        if tcp.outcome != "open":
            why = f"not judged: TCP {main_port} {tcp.outcome}"
            hops.append(
                Hop(len(hops) + 1, "tls", "TLS handshake", Status.SKIPPED, server=_at(address, main_port), detail=why)
            )
            hops.append(
                Hop(
                    len(hops) + 1,
                    "health",
                    "/readyz, /livez",
                    Status.SKIPPED,
                    server=_at(address, main_port),
                    detail=why,
                )
            )
            continue
        tls: TlsPeer = facts[need]
        hops.append(
            _tls_hop(len(hops) + 1, sni or name, address, main_port, tls, need, facts.get(ClockNeed()), findings)
        )
        for path in HEALTH_PATHS:
            anonymous = facts[HttpNeed(address, main_port, sni or address, path)]
            authed = facts.get(HttpNeed(address, main_port, sni or address, path, authenticated=True))
            hops.append(_health_hop(len(hops) + 1, address, main_port, path, anonymous, authed, findings))
    ctx = facts.get(settings.azure) if settings.azure else None
    if isinstance(ctx, AzureContext) and ctx.cluster is not None:
        hops += _azure_hops(len(hops) + 1, ctx, settings, findings)
    return Judgement(hops=tuple(hops), findings=tuple(findings), facts={"name": name, "addresses": addresses})


# ---------------------------------------------------------------- with the Azure context

REQUIRED_INBOUND = ((443, "cluster"), (4443, "cluster"), (9988, "AzureLoadBalancer"))


def _azure_hops(index: int, ctx: AzureContext, settings: Settings, findings: list[Finding]) -> list[Hop]:
    hops = []
    access = props(ctx.cluster).get("apiServerAccessProfile") or {}
    if access.get("enableVnetIntegration") and access.get("subnetId"):
        hops.append(_api007_subnet(index, ctx, access["subnetId"], findings))
        hops.append(_api006_nsg(index + 1, ctx, access["subnetId"], findings))
    ranges = access.get("authorizedIPRanges") or []
    if ranges and not access.get("enablePrivateCluster"):
        hops.append(_api008_authorized(index + len(hops), ctx, ranges, settings, findings))
    return hops


def _api007_subnet(index: int, ctx: AzureContext, subnet_id: str, findings: list[Finding]) -> Hop:
    sub = subnet(ctx.vnets, subnet_id)
    if sub is None:
        return Hop(index, "subnet", name_of(subnet_id), Status.SKIPPED, detail="the API server subnet was not read")
    p = props(sub)
    prefix = p.get("addressPrefix") or (p.get("addressPrefixes") or [""])[0]
    network = ipaddress.ip_network(prefix, strict=False)
    used = len(p.get("ipConfigurations") or [])
    free = network.num_addresses - 5 - used  # Azure reserves 5 addresses in every subnet
    delegated = any(
        props(d).get("serviceName") == "Microsoft.ContainerService/managedClusters" for d in p.get("delegations") or []
    )
    problems = []
    if not delegated:
        problems.append("not delegated to Microsoft.ContainerService/managedClusters")
    if network.prefixlen > 28:
        problems.append(f"{prefix} is smaller than a /28")
    if free < 9:
        problems.append(f"{free} free addresses, fewer than the 9 AKS reserves")
    if problems:
        findings.append(codes.API007.at(ID, hop=index, subnet=name_of(subnet_id), subnet_id=subnet_id,
                                        problems="; ".join(problems)))  # fmt: skip
    detail = f"{prefix}, {'delegated' if delegated else 'not delegated'}, {free} addresses free"
    return Hop(index, "subnet", name_of(subnet_id), Status.FAIL if problems else Status.OK, detail=detail)


def _api006_nsg(index: int, ctx: AzureContext, subnet_id: str, findings: list[Finding]) -> Hop:
    sub = subnet(ctx.vnets, subnet_id)
    nsg_ref = props(sub).get("networkSecurityGroup", {}).get("id") if sub else None
    if not nsg_ref:
        return Hop(index, "nsg", "API server subnet NSG", Status.OK, detail="no NSG on the subnet: nothing filters")
    body = ctx.nsgs.get(nsg_ref.lower())
    if body is None:
        return Hop(index, "nsg", name_of(nsg_ref), Status.SKIPPED, detail="the NSG could not be read")
    api_prefix = props(sub).get("addressPrefix", "")
    target = str(next(ipaddress.ip_network(api_prefix, strict=False).hosts()))
    node_subnets = node_subnet_ids(ctx.cluster)
    node = subnet(ctx.vnets, node_subnets[0]) if node_subnets else None
    node_prefix = props(node).get("addressPrefix") if node else None
    source_ip = str(next(ipaddress.ip_network(node_prefix, strict=False).hosts())) if node_prefix else None
    lines, failed = [], False
    for port, who in REQUIRED_INBOUND:
        source = AZURE_LOAD_BALANCER if who == "AzureLoadBalancer" else source_ip
        if source is None:
            continue
        decision = evaluate(body, Flow("Inbound", "Tcp", source, target, port), vnet_prefixes(ctx.vnets))
        label = f"TCP {port} from {'AzureLoadBalancer' if who == 'AzureLoadBalancer' else node_prefix}"
        lines.append(f"{label}: {'allowed' if decision.allowed else 'DENIED'} by {decision.rule}")
        if not decision.allowed:
            failed = True
            findings.append(
                codes.API006.at(
                    ID,
                    hop=index,
                    flow=f"{label} to {api_prefix}",
                    decision=decision.describe(),
                    nsg=decision.nsg,
                    nsg_rg=parse_id(nsg_ref).get("resourcegroups", "<rg>"),
                    protocol="TCP",
                    port=port,
                    source="AzureLoadBalancer" if who == "AzureLoadBalancer" else node_prefix,
                    priority=decision.priority,
                    rule=decision.rule,
                    new_priority=max(100, decision.priority - 10),
                )
            )
    return Hop(index, "nsg", name_of(nsg_ref), Status.FAIL if failed else Status.OK, detail="; ".join(lines))


def _api008_authorized(
    index: int, ctx: AzureContext, ranges: list[str], settings: Settings, findings: list[Finding]
) -> Hop:
    egress = settings.extra.get("egress_ip")
    if not egress:
        return Hop(index, "authorized-ips", "authorized IP ranges", Status.SKIPPED,
                   detail=f"{', '.join(ranges)}; pass --egress-ip to check this client against them")  # fmt: skip
    inside = any(ipaddress.ip_address(egress) in ipaddress.ip_network(r, strict=False) for r in ranges)
    if not inside:
        need = ctx.need
        findings.append(codes.API008.at(ID, hop=index, egress=egress, ranges=",".join(ranges),
                                        rg=need.resource_group, cluster=need.cluster))  # fmt: skip
    return Hop(index, "authorized-ips", "authorized IP ranges", Status.OK if inside else Status.FAIL,
               detail=f"{', '.join(ranges)}; egress {egress} {'inside' if inside else 'outside'}")  # fmt: skip


def _dns_hop(name: str, settings: Settings, facts: Facts, addresses: list[str], findings: list[Finding]) -> Hop:
    if settings.addresses or is_ip(name):
        how = "given with --address" if settings.addresses else "the server is an IP address"
        return Hop(1, "name", name, Status.OK, answers=tuple(addresses), detail=how)
    if addresses:
        return Hop(1, "name", name, Status.OK, answers=tuple(addresses), detail="resolved by the host resolver")
    config = facts.get(ResolverConfigNeed(settings.resolv_conf))
    why = config.error if config and config.error else "no nameserver gave an address"
    results = [facts.get(DnsQuery(s, name, "A", "udp")) for s in _nameservers(config)] if config else []
    outcomes = [r.first.outcome.label for r in results if isinstance(r, DnsResult)]
    if outcomes:
        why = f"the resolver answered {', '.join(dict.fromkeys(outcomes))}"
    findings.append(codes.API009.at(ID, hop=1, name=name, why=why))
    return Hop(1, "name", name, Status.FAIL, detail=why)


def _tcp_hop(index: int, address: str, port: int, tcp: TcpConnect, findings: list[Finding]) -> Hop:
    status = Status.OK if tcp.outcome == "open" else Status.FAIL
    if status is Status.FAIL:
        code = codes.API002 if port == 4443 else codes.API001
        why = f" ({tcp.error})" if tcp.error else ""
        findings.append(code.at(ID, hop=index, address=address, port=port, outcome=tcp.outcome, why=why))
    return Hop(index, "tcp", f"TCP {port}", status, server=_at(address, port), rcode=tcp.outcome,
               elapsed_ms=tcp.elapsed_ms, detail=tcp.error or "")  # fmt: skip


def _tls_hop(
    index: int,
    name: str,
    address: str,
    port: int,
    tls: TlsPeer,
    need: TlsNeed,
    clock: Clock | None,
    findings: list[Finding],
) -> Hop:
    if tls.outcome in ("timeout", "error"):
        why = f" ({tls.error})" if tls.error else ""
        findings.append(codes.API010.at(ID, hop=index, address=address, port=port, outcome=tls.outcome, why=why))
    if tls.outcome != "ok":
        return Hop(index, "tls", "TLS handshake", Status.FAIL if tls.outcome != "refused" else Status.SKIPPED,
                   server=_at(address, port), rcode=tls.outcome, detail=tls.error or "")  # fmt: skip
    problems = []
    if tls.trusted is False:
        store = "the kubeconfig's CA" if need.ca_pem else "the system trust store"
        problems.append(f"the chain does not verify against {store}: {tls.verify_error}")
    problems += _validity_problems(tls, clock)
    if problems:
        findings.append(codes.API004.at(ID, hop=index, problem="; ".join(problems), evidence=_tls_evidence(tls)))
    used = name
    if not _covers(tls, used):
        sans = ", ".join([*tls.dns_names, *tls.ip_addresses]) or "no subject alternative name"
        findings.append(codes.API003.at(ID, hop=index, used=used, sans=sans, evidence=_tls_evidence(tls)))
    status = Status.FAIL if problems or not _covers(tls, used) else Status.OK
    detail = f"{tls.subject}, issued by {tls.issuer}; valid {tls.not_before[:10]} to {tls.not_after[:10]}; SANs: " + (
        ", ".join([*tls.dns_names, *tls.ip_addresses]) or "none"
    )
    if tls.trusted is None:
        detail += "; chain not checked: no CA known (pass --kubeconfig)"
    if clock is None:
        detail += "; dates not checked: the run has no clock fact"
    return Hop(index, "tls", "TLS handshake", status, server=_at(address, port),
               answers=tls.dns_names[:3], elapsed_ms=tls.elapsed_ms, detail=detail)  # fmt: skip


def _validity_problems(tls: TlsPeer, clock: Clock | None) -> list[str]:
    """The certificate's dates against the run's clock (a fact, so a snapshot judged later judges the same)."""
    if clock is None:
        return []
    now = datetime.datetime.fromisoformat(clock.utc)
    problems = []
    if tls.not_after and datetime.datetime.fromisoformat(tls.not_after) < now:
        problems.append(f"it expired on {tls.not_after}")
    if tls.not_before and datetime.datetime.fromisoformat(tls.not_before) > now:
        problems.append(f"it is not valid before {tls.not_before}")
    return problems


def _covers(tls: TlsPeer, used: str) -> bool:
    if is_ip(used):
        return str(ipaddress.ip_address(used)) in {str(ipaddress.ip_address(i)) for i in tls.ip_addresses}
    used = used.lower().rstrip(".")
    for pattern in tls.dns_names:
        pattern = pattern.lower().rstrip(".")
        if pattern == used:
            return True
        if pattern.startswith("*.") and "." in used and fnmatch.fnmatchcase(used.split(".", 1)[1], pattern[2:]):
            return True
    return False


def _health_hop(
    index: int, address: str, port: int, path: str, anonymous: HttpResult, authed: HttpResult | None,
    findings: list[Finding],
) -> Hop:  # fmt: skip
    label = path.split("?")[0]
    result = authed if authed is not None and authed.outcome == "ok" else anonymous
    if result.outcome != "ok":
        return Hop(index, "health", label, Status.FAIL, server=_at(address, port), rcode=result.outcome,
                   detail=result.error or "")  # fmt: skip
    status_code = result.status or 0
    failing = re.findall(r"^\[-\](\S+)", result.body, flags=re.MULTILINE)
    notes = []
    if result is anonymous and status_code in (401, 403):
        notes.append(f"{status_code} to an anonymous request: the API server is reachable")
        if authed is not None and authed.outcome != "ok":
            notes.append(f"with credentials: {authed.error or authed.outcome}")
        elif authed is None:
            notes.append("the health detail needs the kubeconfig's credentials")
        status = Status.OK
    elif status_code >= 500 or failing:
        checks = ", ".join(failing) or f"HTTP {status_code}"
        findings.append(codes.API005.at(ID, hop=index, path=label, status=status_code, checks=checks,
                                        evidence={"body": result.body[:1000]}))  # fmt: skip
        status = Status.FAIL
    else:
        notes.append(f"HTTP {status_code}" + (" (with credentials)" if result is authed else ""))
        status = Status.OK
    return Hop(index, "health", label, status, server=_at(address, port), rcode=str(status_code),
               elapsed_ms=result.elapsed_ms, detail="; ".join(notes))  # fmt: skip


def _tls_evidence(tls: TlsPeer) -> dict[str, Any]:
    return {"subject": tls.subject, "issuer": tls.issuer, "dns_names": list(tls.dns_names),
            "ip_addresses": list(tls.ip_addresses), "not_before": tls.not_before, "not_after": tls.not_after,
            "verify_error": tls.verify_error}  # fmt: skip


def _at(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


PROBE = Probe(
    id=ID,
    title="API server reachability",
    codes=tuple(f"API{n:03d}" for n in range(1, 11)),
    plan=plan,
    judge=judge,
    commands=("apiserver", "check"),
    order=30,
)
