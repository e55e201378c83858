"""The rules, one per code, each named after it: a rule reads the Chain and returns its findings."""

from __future__ import annotations

from aksdiag.probes.dns_chain.chain import Chain, Server, percentile, say, server_name
from aksdiag.probes.dns_chain.fixes import dns001_fix
from aksdiag.probes.dns_chain.planning import ID, is_azure
from aksdiag.probes.dns_chain.upstreams import dns013_vnet_dns_differs, dns036_node_not_on_vnet_dns

from aksdiag import codes
from aksdiag.dnsnames import aks_zone, relative_record
from aksdiag.facts import DnsAnswer, Outcome
from aksdiag.facts import is_public_address as is_public
from aksdiag.model import Finding


def _usable(answer: DnsAnswer) -> bool:
    """A reply a resolver can act on: not silence or garbage, and not a truncated UDP reply (which it asks again
    over TCP)."""
    return answer.outcome.responded and answer.outcome is not Outcome.TRUNCATED


def _dns005_no_answer(chain: Chain, server: Server) -> list[Finding]:
    """Nothing usable over any transport: silence, garbage, or a truncated UDP reply with TCP not answering."""
    if server is chain.azure or any(_usable(a) for r in server.results for a in r.answers):
        return []
    why = "; ".join(f"{r.query.transport.upper()}: {r.first.error or r.first.outcome.label}" for r in server.results)
    return [
        codes.DNS005.at(
            ID,
            **chain.fields(server),
            transports="UDP and TCP",
            why=why,
            evidence=_evidence(server),
        )
    ]


def _dns010_azure_unreachable(chain: Chain, server: Server) -> list[Finding]:
    if server is not chain.azure or server.responded:
        return []
    return [
        codes.DNS010.at(
            ID,
            server=server_name(server),
            timeout=f"{chain.settings.timeout:g}",
            name=chain.name,
            evidence=_evidence(server),
        )
    ]


def _dns006_servfail(chain: Chain, server: Server) -> list[Finding]:
    servfail = server.transports_with(Outcome.SERVFAIL)
    if not servfail or server.best.outcome is not Outcome.SERVFAIL:
        return []
    return [codes.DNS006.at(ID, **chain.fields(server), transports=" and ".join(servfail), evidence=_evidence(server))]


def _dns020_refused(chain: Chain, server: Server) -> list[Finding]:
    refused = server.transports_with(Outcome.REFUSED)
    if not refused or server.best.outcome is not Outcome.REFUSED:
        return []
    return [codes.DNS020.at(ID, **chain.fields(server), transports=" and ".join(refused), evidence=_evidence(server))]


def _dns021_cname_chain(chain: Chain, server: Server) -> list[Finding]:
    answer = server.best
    if answer.outcome not in (Outcome.CNAME_LOOP, Outcome.CNAME_TOO_LONG):
        return []
    loop = answer.outcome is Outcome.CNAME_LOOP
    names = (chain.name, *answer.cname_chain)
    shown = names if len(names) <= 6 else (*names[:3], "…", *names[-2:])
    return [
        codes.DNS021.at(
            ID,
            **chain.fields(server),
            what="a CNAME loop" if loop else "a CNAME chain past the depth limit",
            chain=" → ".join(shown),
            why="" if loop or not answer.error else f" ({answer.error})",  # a loop shows in the chain itself
            chain_start=chain.name,
            evidence=_evidence(server),
        )
    ]


def _dns022_error_rcode(chain: Chain, server: Server) -> list[Finding]:
    answer = server.best
    odd = server.transports_with(Outcome.RCODE)
    if answer.outcome is not Outcome.RCODE or not odd:
        return []
    return [
        codes.DNS022.at(
            ID,
            **chain.fields(server),
            rcode=answer.rcode or "an error rcode",
            transports=" and ".join(odd),
            why=answer.error or answer.outcome.label,
            evidence=_evidence(server),
        )
    ]


def _dns017_one_transport(chain: Chain, server: Server) -> list[Finding]:
    if server.udp is None or server.tcp is None or not server.responded:
        return []
    ok = [r for r in server.results if _usable(r.first)]
    bad = [r for r in server.results if not r.first.outcome.responded]
    if len(ok) != 1 or len(bad) != 1:
        return []
    return [
        codes.DNS017.at(
            ID,
            **chain.fields(server),
            ok_transport=ok[0].query.transport.upper(),
            ok_outcome=ok[0].first.outcome.label,
            bad_transport=bad[0].query.transport.upper(),
            bad_outcome=bad[0].first.error or bad[0].first.outcome.label,
            evidence=_evidence(server),
        )
    ]


def _dns001_no_forwarder(chain: Chain, server: Server) -> list[Finding]:
    if server not in chain.custom or server.best.outcome not in (Outcome.NXDOMAIN, Outcome.NODATA):
        return []
    ref = chain.reference
    if ref and ref.outcome is Outcome.ANSWER:
        azure_view = f"Azure DNS ({chain.azure.endpoint.short}) answered {', '.join(ref.addresses)}"
        note = ""
    elif not chain.azure.responded and aks_zone(chain.name):
        azure_view = "Azure DNS could not be asked from here to confirm"
        note = (
            " The server either lacks the conditional forwarder, or forwards from a VNet not linked to the "
            "private zone: check both."
        )
    elif chain.arm_answer:
        addresses, linked = chain.arm_answer
        azure_view = (
            f"the private zone holds {', '.join(addresses)} for it (ARM), which Azure DNS answers from {linked}, "
            "where the zone is linked (not from this VNet, by design)"
        )
        note = ""
    else:
        return []  # Azure DNS has no answer either: that is DNS002, not a forwarding fault
    fix = dns001_fix(chain.arm, server.endpoint, chain.zone, chain.settings.azure_dns, chain.name)
    return [
        codes.DNS001.at(
            ID,
            **chain.fields(server),
            remediation=fix["remediation"],
            command=fix["command"],
            outcome=server.best.outcome.label,
            azure_view=azure_view,
            note=note,
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns002_azure_no_record(chain: Chain, server: Server) -> list[Finding]:
    if server is not chain.azure or server.best.outcome not in (Outcome.NXDOMAIN, Outcome.NODATA):
        return []
    if chain.azure_off_path:
        return []  # this VNet asks its DNS servers, and the zone is linked where they resolve: as designed
    seen = server.best.zone or chain.soa_zone
    aks = aks_zone(chain.name)
    if seen and aks and aks.forward_zone in seen:
        zone, zone_note = seen, f"; the zone {seen} is linked to this VNet but holds no record for the name"
    elif seen and not aks and seen.count(".") >= 1:
        zone, zone_note = seen, f" (the answer came from the zone {seen})"
    else:
        zone = f"that holds {chain.name}" if aks else chain.zone  # "Link the private DNS zone that holds …"
        zone_note = "; no private zone holding the name is linked to the VNet asking"
    return [
        codes.DNS002.at(
            ID,
            server=server.endpoint.short,  # the template reads "Azure DNS ({server})"
            name=chain.name,
            zone=zone,
            outcome=server.best.outcome.label,
            zone_note=zone_note,
            zone_arg=zone if "." in zone and " " not in zone else "<private-zone>",
            evidence=_evidence(server),
        )
    ]


def _dns004_public_leak(chain: Chain, server: Server) -> list[Finding]:
    answer = server.best
    public = [a for a in answer.addresses if is_public(a)]
    if answer.outcome is not Outcome.ANSWER or not public or not chain.private_name:
        return []
    ref = chain.reference
    expected = ""
    if ref and ref.addresses and server is not chain.azure and not any(is_public(a) for a in ref.addresses):
        expected = f"; Azure DNS answered the private {', '.join(ref.addresses)}"
    elif chain.settings.expect:
        expected = f"; the endpoint is {', '.join(chain.settings.expect)}"
    return [
        codes.DNS004.at(
            ID,
            **chain.fields(server),
            answers=", ".join(answer.addresses),
            expected_note=expected,
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns003_disagree(chain: Chain, server: Server) -> list[Finding]:
    ref = chain.reference
    answer = server.best
    if server is chain.azure or not ref or ref.outcome is not Outcome.ANSWER or answer.outcome is not Outcome.ANSWER:
        return []
    if set(answer.addresses) == set(ref.addresses) or any(is_public(a) for a in answer.addresses):
        return []
    return [
        codes.DNS003.at(
            ID,
            **chain.fields(server),
            answers=", ".join(answer.addresses),
            reference=f"Azure DNS ({chain.azure.endpoint.short})",
            reference_answers=", ".join(ref.addresses),
            evidence=_evidence(server, chain.azure),
        )
    ]


def _dns007_wrong_endpoint(chain: Chain, server: Server) -> list[Finding]:
    expected = set(chain.settings.expect)
    answer = server.best
    if not expected or answer.outcome is not Outcome.ANSWER or expected & set(answer.addresses):
        return []
    if any(is_public(a) for a in answer.addresses):
        return []  # DNS004 says it better
    ref = chain.reference
    if server is not chain.azure and ref and ref.outcome is Outcome.ANSWER:
        return []  # Azure DNS answered: a custom server's difference is DNS003, Azure's own is the record
    zone = chain.soa_zone or chain.zone
    return [
        codes.DNS007.at(
            ID,
            **(chain.fields(server) | {"zone": zone}),
            answers=", ".join(answer.addresses),
            expected=", ".join(chain.settings.expect),
            record=relative_record(chain.name, zone),
            evidence=_evidence(server),
        )
    ]


def _dns009_slow(chain: Chain, server: Server) -> list[Finding]:
    findings = []
    for result in server.results:
        times = [a.elapsed_ms for a in result.answers if a.outcome.responded and a.elapsed_ms is not None]
        if not times:
            continue  # nothing answered at all: DNS005
        lost = len(result.answers) - len(times)
        p95 = percentile(times, 95)
        if not lost and p95 <= chain.settings.slow_ms:
            continue
        findings.append(
            codes.DNS009.at(
                ID,
                server=server_name(server),
                server_host=server.endpoint.short,
                transport=result.query.transport.upper(),
                lost=lost,
                count=len(result.answers),
                p50=f"{percentile(times, 50):.0f}",
                p95=f"{p95:.0f}",
                max=f"{max(times):.0f}",
                evidence={
                    "server": str(server.endpoint),
                    "transport": result.query.transport,
                    "elapsed_ms": [round(t, 1) for t in times],
                    "lost": lost,
                    "slow_ms": chain.settings.slow_ms,
                },
            )
        )
    return findings


SERVER_RULES = (
    _dns005_no_answer,
    _dns010_azure_unreachable,
    _dns006_servfail,
    _dns020_refused,
    _dns021_cname_chain,
    _dns022_error_rcode,
    _dns017_one_transport,
    _dns001_no_forwarder,
    _dns002_azure_no_record,
    _dns004_public_leak,
    _dns003_disagree,
    _dns007_wrong_endpoint,
    _dns009_slow,
)


def _dns008_resolver_diverges(chain: Chain) -> list[Finding]:
    got = chain.resolver_answer
    if not got or not chain.custom:
        return []
    server, answer = got
    if server in chain.custom or server.relay is not None or not answer.outcome.conclusive:
        return []  # a relay's answer differing from the servers behind it is cluster_dns's finding
    custom = [s.best for s in chain.custom if s.best.outcome.conclusive]
    if not custom:
        return []
    if any(_same(answer, c) for c in custom):
        return []
    return [
        codes.DNS008.at(
            ID,
            resolver=server_name(server),
            resolver_answer=say(answer),
            servers=", ".join(s.endpoint.short for s in chain.custom),
            custom_answer=say(custom[0]),
            resolv_conf=chain.config.path if chain.config else chain.settings.resolv_conf,
            evidence={"resolver": answer.to_dict(), "custom": [c.to_dict() for c in custom]},
        )
    ]


def _dns018_mixed(chain: Chain) -> list[Finding]:
    azure = [s for s in chain.resolver if is_azure(s.endpoint, chain.settings)]
    custom = [s for s in chain.resolver if s.label == "custom DNS"]  # no relay, stub or Azure DNS
    if not azure or not custom:
        return []
    return [
        codes.DNS018.at(
            ID,
            resolv_conf=chain.config.path if chain.config else chain.settings.resolv_conf,
            servers=", ".join(server_name(s) for s in chain.resolver),
            custom_servers=" ".join(s.endpoint.host for s in custom),
            evidence={"nameservers": [str(s.endpoint) for s in chain.resolver]},
        )
    ]


RESOLVER_RULES = (_dns008_resolver_diverges, dns013_vnet_dns_differs, dns036_node_not_on_vnet_dns, _dns018_mixed)


def _same(a: DnsAnswer, b: DnsAnswer) -> bool:
    return a.outcome == b.outcome and set(a.addresses) == set(b.addresses)


def _evidence(*servers: Server) -> dict[str, object]:
    return {str(s.endpoint): {r.query.transport: r.first.to_dict() for r in s.results} for s in servers}
