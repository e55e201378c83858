"""Named lab scenarios: small DNS worlds, each healthy or broken in one way a private AKS cluster breaks.

A scenario is declarative (servers by role, their zones and forwarders, how they misbehave), so the same world
can be served by the pure-Python servers (`aksdiag.lab.world`) or by real BIND 9 (`aksdiag.lab.bind`), and
aksdiag must name the same findings for both. Roles: `public` stands for internet DNS, `azure` for Azure DNS
(168.63.129.16, which answers the private zones linked to the VNet), `custom` for the customer's DNS server.
The landing-zone scenarios (aksdiag.lab.lzscenarios) add a `resolver` (a Private Resolver inbound endpoint: Azure
DNS as its VNet sees it), a `firewall` (Azure Firewall's DNS proxy) and `onprem`; a server's `rules` are a DNS
forwarding ruleset's rules (longest enabled suffix; a catch-all leaves Azure's reserved domains alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aksdiag.lab.relay import RelaySpec

CLUSTER_FQDN = "aks-lab-k3x9q2.5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c.privatelink.koreacentral.azmk8s.io"
CLUSTER_ZONE = "5e2c1a7b-3f4d-4e8a-9b6c-0d1e2f3a4b5c.privatelink.koreacentral.azmk8s.io"
FORWARD_ZONE = "privatelink.koreacentral.azmk8s.io"
ENDPOINT_IP = "10.224.0.4"
STALE_IP = "10.224.0.9"

VNET_INTEGRATION_ZONE = CLUSTER_ZONE.replace(".privatelink.", ".private.")
VNET_INTEGRATION_FQDN = f"aks-lab-k3x9q2.{VNET_INTEGRATION_ZONE}"
ILB_IP = "10.225.0.4"
PUBLIC_FQDN = "aks-lab-k3x9q2-5c2d.hcp.koreacentral.azmk8s.io"

SERVICE_FQDN = "aks-svc.my.com"
SERVICE_IP = "10.224.0.100"
SERVICE_PUBLIC_IP = "20.41.65.7"


@dataclass(frozen=True)
class ZoneSpec:
    origin: str
    a: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cname: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A DNS forwarding ruleset's rule: names under `domain` ("." for all) go to the `targets` (roles, tried in
    order), when enabled."""

    domain: str
    targets: tuple[str, ...]
    enabled: bool = True


WILDCARD_RESERVED = ("azmk8s.io", "windows.net", "azure.com", "azure.net", "windowsazure.us")
"""Domains a catch-all rule ignores (Learn, "Rule processing": the two-label names of Azure services' DNS zones are
reserved): their names stay with Azure DNS unless a rule names them."""


def rule_forwards(rules: tuple[Rule, ...]) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """The rules as conditional forwarders (domain → target roles) and a catch-all's targets: disabled rules left
    out, so a name falls to the longest enabled rule, as Azure applies a ruleset. Both backends serve this."""
    forwards: dict[str, tuple[str, ...]] = {}
    catch_all: tuple[str, ...] = ()
    for rule in rules:
        if not rule.enabled:
            continue
        domain = rule.domain.strip(".").lower()
        if domain:
            forwards[domain] = rule.targets
        else:
            catch_all = rule.targets
    return forwards, catch_all


@dataclass(frozen=True)
class ServerSpec:
    """One DNS server of a world. `behaviour` other than normal/refuse is a network condition or an appliance,
    served by Python even in a BIND world: dead (silent), slow (answers late), udp-only (no TCP listener),
    truncate-udp (every UDP answer truncated, TCP in full: an appliance that forces TCP), random-forward (Azure
    Firewall's DNS proxy with several servers: each query to one of `upstreams`, chosen at random; `seed` makes
    the choices repeatable)."""

    role: str
    zones: tuple[ZoneSpec, ...] = ()
    forwards: tuple[tuple[str, str], ...] = ()
    """Conditional forwarders: (zone, role of the upstream)."""
    default_forward: str | None = None
    behaviour: str = "normal"
    delay_ms: int = 0
    rules: tuple[Rule, ...] = ()
    """Forwarding rules, over the server's own forwards and default; what they leave goes to `default_forward`
    (Azure DNS's view behind its linked zones). A server with rules holds no zones: Azure DNS as a VNet sees it is
    a zones server in front of a rules server (linked zones first, then rules: Learn's order), as BIND serves it."""
    upstreams: tuple[str, ...] = ()
    """random-forward: the roles one of which answers each query."""
    seed: int | None = None
    relay: RelaySpec | None = None
    """coredns/localdns (the cluster's caching relays, aksdiag.lab.relay): cache and protocol; None: the kind's
    defaults. `forwards` are its per-zone overrides, `default_forward` its upstream."""

    def forward_map(self) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
        """Conditional forwarders (zone → target roles, the enabled rules over `forwards`) and the default
        forwarders (a catch-all rule's targets, else `default_forward`)."""
        ruled, catch_all = rule_forwards(self.rules)
        forwards = {zone: (role,) for zone, role in self.forwards} | ruled
        fallback = (self.default_forward,) if self.default_forward else ()
        if catch_all and fallback:
            for domain in WILDCARD_RESERVED:
                forwards.setdefault(domain, fallback)
        return forwards, catch_all or fallback


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    fqdn: str
    servers: tuple[ServerSpec, ...]
    resolver: tuple[str, ...]
    """Roles listed as nameservers in the world's resolv.conf, in order."""
    expected: frozenset[str]
    """Error and warning codes aksdiag must name (info findings are not listed)."""
    custom: tuple[str, ...] = ()
    """Roles passed as --server; empty: aksdiag's default (the resolver's non-Azure nameservers)."""
    expect: tuple[str, ...] = ()
    count: int = 1
    python_only: str = ""
    """Why BIND cannot serve this world, when it cannot."""

    def server(self, role: str) -> ServerSpec:
        return next(s for s in self.servers if s.role == role)


PUBLIC = ServerSpec(
    "public",
    zones=(
        ZoneSpec("azmk8s.io", a={PUBLIC_FQDN: (ENDPOINT_IP,)}),
        ZoneSpec("my.com", a={SERVICE_FQDN: (SERVICE_PUBLIC_IP,), "www.my.com": ("20.41.65.8",)}),
    ),
)
PRIVATE_ZONE = ZoneSpec(CLUSTER_ZONE, a={CLUSTER_FQDN: (ENDPOINT_IP,)})
AZURE = ServerSpec("azure", zones=(PRIVATE_ZONE,), default_forward="public")
CUSTOM = ServerSpec("custom", forwards=((FORWARD_ZONE, "azure"),), default_forward="public")
CUSTOM_NO_FORWARDER = ServerSpec("custom", default_forward="public")
LOOP_ALIAS = f"api-alias.{CLUSTER_ZONE}"
LONG_CHAIN = tuple(f"hop{i}.{CLUSTER_ZONE}" for i in range(12))
"""Twelve CNAMEs from the FQDN to the address: one more than resolvers follow."""


def _custom_with_copy(cname: dict[str, str], a: dict[str, tuple[str, ...]] | None = None) -> ServerSpec:
    """A custom server holding a hand-made copy of the cluster's zone (its other names go to public DNS)."""
    return ServerSpec("custom", zones=(ZoneSpec(CLUSTER_ZONE, a=a or {}, cname=cname),), default_forward="public")


def _scenarios() -> list[Scenario]:
    return [
        Scenario(
            "healthy",
            "custom DNS forwards privatelink.koreacentral.azmk8s.io to Azure DNS; the zone is linked",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, CUSTOM),
            ("custom",),
            frozenset(),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "no-forwarder",
            "the custom DNS server has no conditional forwarder: it asks public DNS, which says NXDOMAIN",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, CUSTOM_NO_FORWARDER),
            ("custom",),
            frozenset({"DNS001"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "not-linked",
            "the private zone is not linked to the VNet asking: Azure DNS itself answers NXDOMAIN",
            CLUSTER_FQDN,
            (PUBLIC, ServerSpec("azure", default_forward="public"), CUSTOM),
            ("custom",),
            frozenset({"DNS002"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "stale-copy",
            "the custom DNS server holds a hand-made copy of the zone with the endpoint's old address",
            CLUSTER_FQDN,
            (
                PUBLIC,
                AZURE,
                ServerSpec(
                    "custom",
                    zones=(ZoneSpec(CLUSTER_ZONE, a={CLUSTER_FQDN: (STALE_IP,)}),),
                    default_forward="public",
                ),
            ),
            ("custom",),
            frozenset({"DNS003"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "public-leak",
            "a private zone my.com (internal LB) is not forwarded: the custom server returns the public my.com",
            SERVICE_FQDN,
            (
                PUBLIC,
                ServerSpec(
                    "azure",
                    zones=(ZoneSpec("my.com", a={SERVICE_FQDN: (SERVICE_IP,)}),),
                    default_forward="public",
                ),
                CUSTOM_NO_FORWARDER,
            ),
            ("custom",),
            frozenset({"DNS004"}),
            expect=(SERVICE_IP,),
        ),
        Scenario(
            "servfail",
            "the custom server forwards the zone to an upstream that refuses it, so it answers SERVFAIL",
            CLUSTER_FQDN,
            (
                PUBLIC,
                AZURE,
                ServerSpec("upstream", behaviour="refuse"),
                ServerSpec("custom", forwards=((FORWARD_ZONE, "upstream"),), default_forward="public"),
            ),
            ("custom",),
            frozenset({"DNS006"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "dead-server",
            "the first nameserver is down (packets dropped); the second one answers",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, ServerSpec("dead", behaviour="dead"), CUSTOM),
            ("dead", "custom"),
            frozenset({"DNS005"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "slow",
            "the custom server forwards to a DNS Private Resolver inbound endpoint that answers after 600 ms",
            CLUSTER_FQDN,
            (
                PUBLIC,
                AZURE,
                ServerSpec("inbound", zones=(PRIVATE_ZONE,), behaviour="slow", delay_ms=600),
                ServerSpec("custom", forwards=((FORWARD_ZONE, "inbound"),), default_forward="public"),
            ),
            ("custom",),
            frozenset({"DNS009"}),
            expect=(ENDPOINT_IP,),
            count=3,
        ),
        Scenario(
            "tcp-blocked",
            "the custom server answers over UDP only: TCP/53 is not served (nodes need both)",
            CLUSTER_FQDN,
            (
                PUBLIC,
                AZURE,
                ServerSpec(
                    "custom",
                    forwards=((FORWARD_ZONE, "azure"),),
                    default_forward="public",
                    behaviour="udp-only",
                ),
            ),
            ("custom",),
            frozenset({"DNS017"}),
            expect=(ENDPOINT_IP,),
            python_only="BIND always serves TCP on the port it serves UDP on",
        ),
        Scenario(
            "udp-truncated",
            "the custom server truncates every UDP answer (TC set) and answers in full over TCP: resolvers cope",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, replace(CUSTOM, behaviour="truncate-udp")),
            ("custom",),
            frozenset(),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "cname-loop",
            "the custom server's hand-made copy of the zone makes the FQDN a CNAME to an alias that points back",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, _custom_with_copy({CLUSTER_FQDN: LOOP_ALIAS, LOOP_ALIAS: CLUSTER_FQDN})),
            ("custom",),
            frozenset({"DNS021"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "cname-too-long",
            "the custom server's copy of the zone reaches the address through 12 CNAMEs, past what resolvers follow",
            CLUSTER_FQDN,
            (
                PUBLIC,
                AZURE,
                _custom_with_copy(
                    dict(zip((CLUSTER_FQDN, *LONG_CHAIN[:-1]), LONG_CHAIN, strict=True)),
                    {LONG_CHAIN[-1]: (ENDPOINT_IP,)},
                ),
            ),
            ("custom",),
            frozenset({"DNS021"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "mixed-resolver",
            "resolv.conf lists a custom server without the forwarder and Azure DNS together",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, CUSTOM_NO_FORWARDER),
            ("custom", "azure"),
            frozenset({"DNS001", "DNS018"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "wrong-endpoint",
            "the A record in the private zone still holds the old endpoint address after a stop/start",
            CLUSTER_FQDN,
            (
                PUBLIC,
                ServerSpec(
                    "azure",
                    zones=(ZoneSpec(CLUSTER_ZONE, a={CLUSTER_FQDN: (STALE_IP,)}),),
                    default_forward="public",
                ),
                CUSTOM,
            ),
            ("custom",),
            frozenset({"DNS007"}),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "resolver-diverges",
            "the host still uses an old DNS server without the forwarder, not the custom server it should",
            CLUSTER_FQDN,
            (PUBLIC, AZURE, CUSTOM, ServerSpec("old", default_forward="public")),
            ("old",),
            frozenset({"DNS008"}),
            custom=("custom",),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "vnet-integration",
            "API Server VNet Integration: the zone is private.<region>.azmk8s.io, the address the API server's ILB",
            VNET_INTEGRATION_FQDN,
            (
                PUBLIC,
                ServerSpec(
                    "azure",
                    zones=(ZoneSpec(VNET_INTEGRATION_ZONE, a={VNET_INTEGRATION_FQDN: (ILB_IP,)}),),
                    default_forward="public",
                ),
                ServerSpec("custom", forwards=(("private.koreacentral.azmk8s.io", "azure"),), default_forward="public"),
            ),
            ("custom",),
            frozenset(),
            expect=(ILB_IP,),
        ),
        Scenario(
            "zone-none",
            "privateDNSZone none: public DNS carries the API server's private address under its public FQDN",
            PUBLIC_FQDN,
            (PUBLIC, ServerSpec("azure", default_forward="public"), CUSTOM_NO_FORWARDER),
            ("custom",),
            frozenset(),
            expect=(ENDPOINT_IP,),
        ),
        Scenario(
            "off-azure",
            "run from outside Azure: 168.63.129.16 does not answer; the custom server answers through a resolver",
            CLUSTER_FQDN,
            (
                PUBLIC,
                ServerSpec("azure", behaviour="dead"),
                ServerSpec("inbound", zones=(PRIVATE_ZONE,)),
                ServerSpec("custom", forwards=((FORWARD_ZONE, "inbound"),), default_forward="public"),
            ),
            ("custom",),
            frozenset(),
            expect=(ENDPOINT_IP,),
        ),
    ]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in _scenarios()}
DEMO_SCENARIO = "no-forwarder"
