"""The cluster's own DNS layer as lab scenarios: a pod asks CoreDNS (kube-dns) or LocalDNS, which relay to the
custom server and Azure DNS, each world healthy or broken in one way a relay breaks (issue 14).

Roles: `coredns` is the kube-dns Service (CoreDNS with AKS's `cache 30`: aksdiag.lab.relay.AKS_COREDNS), `localdns`
a node's LocalDNS listener (its defaults: an hour of cache, serve-stale Immediate); `custom`, `azure` and `public` as
in aksdiag.lab.scenarios. The resolv.conf names the relay, as a pod's does. A `switchable` server is one a test
changes while the world runs (World.add_forward: the engineer adds the forwarder; World.take_down: the upstream
dies); it is pure Python in the BIND backend too, where BIND plays the relay (its cache: max-cache-ttl,
max-ncache-ttl, stale-answer-enable).

`expected` are the error and warning codes aksdiag names for a pod whose resolver is this relay at its cluster
address: the scenario played by the lab cluster of aksdiag.lab.clusterdnsworld.PLAYS (`aksdiag pod -- dns FQDN
--server 10.1.0.4` there, tests/test_cluster_dns_e2e.py). Served bare (`aksdiag lab up`: the relay on a loopback port,
a resolv.conf without a pod's search domains) the relay is not recognisable as one, and aksdiag judges it as the
host's resolver. `answer` is what the pod gets from its relay first (the addresses, or the rcode).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aksdiag.lab.relay import AKS_COREDNS, LOCALDNS_FORCE_TCP
from aksdiag.lab.scenarios import (
    AZURE,
    CLUSTER_FQDN,
    CUSTOM,
    CUSTOM_NO_FORWARDER,
    ENDPOINT_IP,
    FORWARD_ZONE,
    PUBLIC,
    Scenario,
    ServerSpec,
)

COREDNS = ServerSpec("coredns", default_forward="custom", behaviour="coredns", relay=AKS_COREDNS)
LOCALDNS = ServerSpec("localdns", default_forward="custom", behaviour="localdns")
FIXABLE = replace(CUSTOM_NO_FORWARDER, behaviour="switchable")
"""The custom server without the conditional forwarder, until World.add_forward("custom", FORWARD_ZONE, "azure")."""
DYING = replace(CUSTOM, behaviour="switchable")
"""A healthy custom server, until World.take_down("custom")."""
OLD_DNS = ServerSpec("old-dns", default_forward="public")
"""A DNS server without the forwarder (the one before the migration): a coredns-custom override still names it."""


@dataclass(frozen=True)
class RelayScenario(Scenario):
    answer: str = ENDPOINT_IP
    """What the pod's first question to its relay gets: the addresses (comma-joined), or the rcode's name."""


def _relay(
    name: str, summary: str, servers: tuple[ServerSpec, ...], answer: str = ENDPOINT_IP, expected: str = ""
) -> RelayScenario:
    relays = [s.role for s in servers if s.behaviour in ("coredns", "localdns")]
    codes = frozenset(expected.split())
    return RelayScenario(
        name, summary, CLUSTER_FQDN, servers, (relays[0],), codes, ("custom",), (ENDPOINT_IP,), answer=answer
    )


def _scenarios() -> list[RelayScenario]:
    return [
        _relay("relay-healthy", "pod → CoreDNS (cache 30) → custom DNS (forwarder) → Azure DNS: all good",
               (PUBLIC, AZURE, CUSTOM, COREDNS)),
        _relay("relay-cached-nxdomain", "the custom server lacks the forwarder; once it is added, CoreDNS still "
               "answers its cached NXDOMAIN until the denial TTL runs out", (PUBLIC, AZURE, FIXABLE, COREDNS),
               "NXDOMAIN", "DNS032"),
        _relay("relay-override-wrong", "a coredns-custom override forwards the private zone to the old DNS "
               "server, which has no forwarder", (PUBLIC, AZURE, CUSTOM, OLD_DNS,
               replace(COREDNS, forwards=((FORWARD_ZONE, "old-dns"),))), "NXDOMAIN", "DNS031"),
        _relay("localdns-healthy", "pod → LocalDNS (PreferUDP) → custom DNS → Azure DNS: all good",
               (PUBLIC, AZURE, CUSTOM, LOCALDNS)),
        _relay("localdns-force-tcp", "LocalDNS's override says ForceTCP; the custom server serves UDP only",
               (PUBLIC, AZURE, replace(CUSTOM, behaviour="udp-only"), replace(LOCALDNS, relay=LOCALDNS_FORCE_TCP)),
               "SERVFAIL", "DNS034 DNS017"),
        _relay("relay-dead-upstream", "CoreDNS's upstream does not answer (NSG, a stopped VM): SERVFAIL",
               (PUBLIC, AZURE, ServerSpec("custom", behaviour="dead"), COREDNS), "SERVFAIL", "DNS033 DNS005"),
        _relay("relay-stale", "LocalDNS cached the answer, then its upstream died (World.take_down): serve-stale "
               "answers the expired entry with TTL 0 for an hour", (PUBLIC, AZURE, DYING, LOCALDNS), ENDPOINT_IP,
               "DNS033 DNS005"),
        _relay("relay-stale-off", "CoreDNS (no serve_stale) cached the answer, then its upstream died: SERVFAIL "
               "once the entry expires", (PUBLIC, AZURE, DYING, COREDNS), ENDPOINT_IP, "DNS033 DNS005"),
    ]  # fmt: skip


RELAY_SCENARIOS: dict[str, RelayScenario] = {s.name: s for s in _scenarios()}
