"""One lab cluster whose kube-dns Service, CoreDNS pods and LocalDNS listeners are the DNS lab's relays: the fake
Kubernetes API serves a world of aksdiag.lab.corednsworld, and every address that world shows answers for real.

A cluster world joins a kube world (corednsworld: kube-dns 10.0.0.10, its EndpointSlice, the CoreDNS pods 10.244.0.5
and 10.244.1.7, the two ConfigMaps) with a DNS world (aksdiag.lab.relayscenarios: custom DNS, Azure DNS, public
DNS, an old DNS server). The parts agree by construction:
- Each CoreDNS pod is a caching relay (aksdiag.lab.relay) built from the served ConfigMaps through aksdiag.corefile:
  the default block's `forward . /etc/resolv.conf` goes to the node's VNet DNS (the custom server), a
  `coredns-custom` `*.server` block's forward becomes the relay's per-zone forward (its target by the address the
  world knows it by: 10.1.0.99 is the old server), a `rewrite` rewrites the name before the relay asks and the
  answer's name back, and `cache 30` caps the cache. A pod the kube world shows crash-looping has nothing
  listening at its IP; a pod a world blocks (a network policy, an NSG on the system pool: F18) drops everything
  (`dead`) or TCP only (`udp-only`).
- The Service is kube-proxy's DNAT to a ready endpoint: a query to 10.0.0.10 is answered by the first ready pod's
  relay (kube-proxy's random pick made repeatable, so the blocked pod is always the second one); without a ready
  endpoint nothing listens there (kube-proxy rejects: TCP is refused; UDP's port unreachable is not seen by a
  resolver's unconnected socket, so UDP times out).
- On a LocalDNS node, ClusterFirst pods get 169.254.10.11 (its `.` → ClusterCoreDNS: the Service; a world's
  zone overrides → VnetDNS: the custom server) and the node 169.254.10.10 (→ VnetDNS), each a LocalDNS relay (an
  hour of cache, serve-stale Immediate). A world's ForceTCP is both listeners' (as the ARM world localdns-force-tcp
  says: vnetDNSOverrides `.` and a kubeDNSOverrides VnetDNS override for the zone), relay-wide here: the Service
  the kube listener also asks serves TCP anyway.
The address map (Settings.address_map, env AKSDIAG_ADDRESS_MAP) sends each shown address to its loopback server:
`address_map(in_cluster=True)` as a pod sees the network, `in_cluster=False` as a jump box does (the ClusterIP, the
overlay pod IPs and the node-local LocalDNS listeners are a black hole there: queries time out).

`expected` are the error and warning codes aksdiag names in a pod (`aksdiag pod -- dns FQDN --server 10.1.0.4`),
`jumpbox` those from the jump box (`aksdiag dns FQDN --kubeconfig …` with the VNet's DNS server in resolv.conf),
both with Azure context (--cluster) where the world names an `arm` world: LocalDNS's profile comes from ARM, so
from the jump box too a ForceTCP override towards a server without TCP/53 is DNS034.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP
from aksdiag.facts import Endpoint
from aksdiag.lab import corednsworld, dnsserver, relay
from aksdiag.lab import world as lab_world
from aksdiag.lab.corednsworld import KUBE_DNS_IP, NODES, PODS, WRONG_FORWARD
from aksdiag.lab.relayscenarios import RELAY_SCENARIOS
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE

if TYPE_CHECKING:
    import dns.message

    from aksdiag.corefile import CoreDNSConfig
    from aksdiag.lab.kube import FakeKubeApi, KubeWorld
    from aksdiag.lab.kubelet import NodeBehaviour

CUSTOM_IP = "10.1.0.4"
AZURE_IP = "168.63.129.16"
SHOWN = {"custom": CUSTOM_IP, "azure": AZURE_IP, "old-dns": WRONG_FORWARD}
"""DNS lab role → the address the world knows that server by (the VNet's DNS server, Azure DNS, the old one)."""
RELAYS = ("coredns", "localdns")
STALE_AFTER = 120
"""Seconds the clock moves on after the upstream dies: past CoreDNS's 30 s and the zone's 60 s TTL."""


@dataclass(frozen=True)
class ClusterWorld:
    name: str
    summary: str
    kube: str
    """The corednsworld world the fake API serves."""
    dns: str
    """The relayscenarios scenario whose servers stand behind the relays."""
    answer: str
    """What the pod's first nameserver answers for the cluster's FQDN: the address, or the rcode's name."""
    expected: frozenset[str] = frozenset()
    jumpbox: frozenset[str] = frozenset()
    localdns: bool = False
    blocked: tuple[tuple[int, str], ...] = ()
    """(CoreDNS pod index, `dead` or `udp-only`): what a network policy does to the pod's own IP."""
    localdns_zones: tuple[tuple[str, str], ...] = ()
    """169.254.10.11's zone overrides (zone, role): forwardDestination VnetDNS for the zone."""
    without_role: str = ""
    """A Role of container/rbac.yaml left out of the cluster (the pod's service account lacks its grants)."""
    deny: tuple[str, ...] = ()
    """The fake API's `_rbac.yaml` denials (`get configmaps/coredns-custom`): the jump box's kubeconfig user's too."""
    setup: str = ""
    """After start: `fix` (the relays cache the NXDOMAIN, then the custom server gets the forwarder) or `die`
    (the relays cache the answer, the custom server goes silent, the clock moves on STALE_AFTER seconds)."""
    info: frozenset[str] = frozenset()
    """Info codes the pod's run must name too (DNS037)."""
    arm: str = ""
    """The ARM world (aksdiag.lab.armworld) that holds the cluster's agent pools' LocalDNS profile, for a run with
    Azure context (--cluster); empty: the world is judged without it."""


def _world(name: str, summary: str, kube: str, dns: str, answer: str, pod: set[str], jump: set[str],
           **kw: Any) -> ClusterWorld:  # fmt: skip
    return ClusterWorld(name, summary, kube, dns, answer, frozenset(pod), frozenset(jump), **kw)


_IP = ENDPOINT_IP
WORLDS: dict[str, ClusterWorld] = {w.name: w for w in [
    _world("cluster-coredns-healthy", "pod → kube-dns (two ready CoreDNS pods) → custom DNS → Azure DNS",
           "coredns-healthy", "relay-healthy", _IP, set(), set()),
    _world("cluster-localdns-healthy", "pod → LocalDNS 169.254.10.11 → kube-dns → custom DNS → Azure DNS",
           "coredns-healthy", "localdns-healthy", _IP, set(), set(), localdns=True, arm="localdns-healthy"),
    _world("cluster-cached-nxdomain", "the forwarder was added to the custom server; CoreDNS still answers "
           "the NXDOMAIN it cached before", "coredns-healthy", "relay-cached-nxdomain", "NXDOMAIN",
           {"DNS032"}, set(), setup="fix"),
    _world("cluster-custom-forward", f"coredns-custom's {corednsworld.SERVER_KEY} forwards {FORWARD_ZONE} to the "
           f"old server {WRONG_FORWARD} (no forwarder there)", "coredns-custom-forward", "relay-override-wrong",
           "NXDOMAIN", {"DNS031"}, {"DNS031"}),
    _world("cluster-custom-rewrite", f"coredns-custom's {corednsworld.OVERRIDE_KEY} rewrites {FORWARD_ZONE} "
           "names to the public zone", "coredns-custom-rewrite", "relay-healthy", "NXDOMAIN", {"DNS031"},
           {"DNS031"}),
    _world("cluster-coredns-not-ready", f"CoreDNS pod {PODS[1][0]} is not ready; the Service answers from the "
           "other", "coredns-pod-not-ready", "relay-healthy", _IP, {"DNS029"}, {"DNS029"}),
    _world("cluster-coredns-crashloop", f"CoreDNS pod {PODS[1][0]} is crash-looping (nothing listens at "
           f"{PODS[1][1]})", "coredns-crashloop", "relay-healthy", _IP, {"DNS029"}, {"DNS029"}),
    _world("cluster-coredns-down", "no CoreDNS pod is ready: kube-dns has no endpoint and refuses",
           "coredns-no-endpoints", "relay-healthy", "timeout", {"DNS029"}, {"DNS029"}),
    _world("cluster-pod-blocked", f"a network policy drops DNS to CoreDNS pod {PODS[1][1]}; the Service "
           "answers", "coredns-healthy", "relay-healthy", _IP, {"DNS030"}, set(), blocked=((1, "dead"),)),
    _world("cluster-pod-udp-only", f"a network policy lets only UDP/53 through to CoreDNS pod {PODS[1][1]}",
           "coredns-healthy", "relay-healthy", _IP, {"DNS030"}, set(), blocked=((1, "udp-only"),)),
    _world("cluster-localdns-force-tcp", f"LocalDNS's override for {FORWARD_ZONE} says VnetDNS over ForceTCP; "
           "the custom server serves UDP only", "coredns-healthy", "localdns-force-tcp", "SERVFAIL",
           {"DNS034", "DNS017"}, {"DNS034", "DNS017"}, localdns=True, localdns_zones=((FORWARD_ZONE, "custom"),),
           arm="localdns-force-tcp"),
    _world("cluster-dead-upstream", "CoreDNS's upstream (the custom server) is silent: SERVFAIL",
           "coredns-healthy", "relay-dead-upstream", "SERVFAIL", {"DNS033", "DNS005"}, {"DNS005"}),
    _world("cluster-serve-stale", "LocalDNS cached the answer, then the custom server died: serve-stale "
           "answers it with TTL 0", "coredns-healthy", "relay-stale", _IP, {"DNS033", "DNS005"}, {"DNS005"},
           localdns=True, setup="die", arm="localdns-healthy"),
    _world("cluster-stale-off", "CoreDNS (no serve_stale) cached the answer, then the custom server died: "
           "SERVFAIL once the entry expired", "coredns-healthy", "relay-stale-off", "SERVFAIL", {"DNS033", "DNS005"},
           {"DNS005"}, setup="die"),
    _world("cluster-rbac-no-coredns", "container/rbac.yaml applied without its Role aksdiag-coredns-reader: the "
           "pod may not get the coredns ConfigMaps",
           "coredns-healthy", "relay-healthy", _IP, set(), set(), without_role="aksdiag-coredns-reader",
           info=frozenset({"DNS037"})),
]}  # fmt: skip


PLAYS = {"relay-healthy": "cluster-coredns-healthy", "relay-cached-nxdomain": "cluster-cached-nxdomain",
         "relay-override-wrong": "cluster-custom-forward", "localdns-healthy": "cluster-localdns-healthy",
         "localdns-force-tcp": "cluster-localdns-force-tcp", "relay-dead-upstream": "cluster-dead-upstream",
         "relay-stale": "cluster-serve-stale", "relay-stale-off": "cluster-stale-off"}  # fmt: skip
"""Relay scenario → the cluster world where its relay has its cluster address: the scenario's `expected`."""


# ---------------------------------------------------------------- the running cluster


@dataclass
class Cluster:
    """A running cluster world: the DNS lab behind the relays, the relays, the fake API (`serve_api`)."""

    world: ClusterWorld
    lab: lab_world.World
    servers: dnsserver.LabServers
    endpoints: dict[str, Endpoint]
    """Role → loopback endpoint: the lab's roles and kube-dns, coredns-0, coredns-1, localdns-kube, localdns-vnet."""
    shown: dict[str, str]
    """Role → the address the world shows."""
    workdir: Path
    kube: KubeWorld
    hole: Endpoint
    """Where the jump box's packets to cluster-only addresses go: a server that never answers."""
    api: FakeKubeApi | None = None
    _owned: Path | None = None
    _closers: list[Any] = field(default_factory=list)

    @property
    def clock(self) -> relay.LabClock:
        return self.lab.live.clock

    def address_map(self, in_cluster: bool = True) -> str:
        """AKSDIAG_ADDRESS_MAP: every shown address to its server; from a jump box the cluster's to the hole."""
        pairs = []
        for role, address in self.shown.items():
            inside = role not in SHOWN
            pairs.append(f"{address}={self.endpoints[role] if in_cluster or not inside else self.hole}")
        return ",".join(pairs)

    def node_resolv_conf(self) -> Path:
        """The nodes' resolv.conf: the VNet's DNS server, or LocalDNS's VNet listener on a LocalDNS node."""
        path = self.workdir / "node-resolv.conf"
        path.write_text(f"nameserver {LOCALDNS_VNET_IP if self.world.localdns else CUSTOM_IP}\n")
        return path

    def jumpbox_resolv_conf(self) -> Path:
        path = self.workdir / "jumpbox-resolv.conf"
        path.write_text(f"# a jump box in the cluster's VNet\nnameserver {CUSTOM_IP}\n")
        return path

    def nodes(self, env: dict[str, str] | None = None) -> dict[str, NodeBehaviour]:
        """The simulated kubelet's nodes: ClusterFirst pods get kube-dns (or LocalDNS's kube listener)."""
        from aksdiag.lab.kubelet import NodeBehaviour

        cluster_dns = Endpoint(LOCALDNS_KUBE_IP if self.world.localdns else KUBE_DNS_IP, 53)
        node_env = {"AKSDIAG_ADDRESS_MAP": self.address_map(), "AKSDIAG_AZURE_DNS": AZURE_IP, **(env or {})}
        conf = self.node_resolv_conf()
        return {name: NodeBehaviour(conf, cluster_dns=cluster_dns, env=dict(node_env)) for name in NODES}

    def serve_api(self) -> FakeKubeApi:
        from aksdiag.lab.kube import FakeKubeApi

        if self.api is None:
            self.api = FakeKubeApi(self.kube, self.workdir / "pki")
            self._closers.append(self.api)
        return self.api

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()
        if self._owned is not None:
            shutil.rmtree(self._owned, ignore_errors=True)
            self._owned = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def kube_objects(world: ClusterWorld) -> KubeWorld:
    """The kube world: kube-system's DNS layer, Ready Linux nodes and container/rbac.yaml (its namespaces, service
    accounts, roles and bindings: the pod's service account gets exactly what it grants)."""
    from aksdiag.lab.kube import KubeWorld
    from aksdiag.lab.kube.rbac import manifest

    objects = corednsworld.kube(world.kube)
    for obj in objects:
        if obj["kind"] == "Node":
            obj["metadata"]["labels"]["kubernetes.io/os"] = "linux"
            obj["status"]["conditions"] = [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
    objects += [d for d in manifest() if (d["kind"], d["metadata"]["name"]) != ("Role", world.without_role)]
    kube = KubeWorld()
    kube.add_all(objects)
    for rule in world.deny:
        verb, _, resource = rule.partition(" ")
        kube.denied.add((verb, resource))
    return kube


def start(
    name: str | ClusterWorld, workdir: str | Path | None = None, frozen: bool = True, backend: str = "python"
) -> Cluster:
    """Start the world's DNS servers and relays on loopback (the fake API: Cluster.serve_api); close() stops all.

    `frozen`: the relays' clock stands still (tests); else it follows real time (`aksdiag lab up`). `backend`
    serves the servers behind the relays (custom, Azure, public, old DNS): `bind` with real BIND 9 where it can
    (a server a world changes while it runs stays Python); the relays are always Python."""
    world = WORLDS[name] if isinstance(name, str) else name
    owned = None if workdir else Path(tempfile.mkdtemp(prefix=f"aksdiag-{world.name}-"))
    directory = Path(workdir) if workdir else owned
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    scenario = RELAY_SCENARIOS[world.dns]
    behind = replace(scenario, servers=tuple(s for s in scenario.servers if s.behaviour not in RELAYS),
                     resolver=("custom",))  # fmt: skip
    lab = lab_world.start(behind, backend, directory / "dns")
    servers = dnsserver.LabServers()
    cluster = Cluster(world, lab, servers, dict(lab.endpoints), {r: a for r, a in SHOWN.items() if r in lab.endpoints},
                      directory, kube_objects(world), Endpoint("127.0.0.1", 0), _owned=owned, _closers=[lab, servers])  # fmt: skip
    try:
        if frozen:
            cluster.clock.freeze()
        cluster.hole = servers.add(dnsserver.ServerSpec(dnsserver.dead, name="unreachable"))
        _serve_relays(cluster, _relay_spec(scenario, "coredns"), _relay_spec(scenario, "localdns"))
        _set_up(cluster)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _relay_spec(scenario: Any, kind: str) -> relay.RelaySpec | None:
    spec = next((s for s in scenario.servers if s.behaviour == kind), None)
    return relay.spec_of(spec) if spec is not None else None


def coredns_config(world: ClusterWorld) -> CoreDNSConfig:
    """The CoreDNS configuration the kube world serves, read as CoreDNS reads it."""
    from aksdiag.corefile import parse_coredns

    objects = {o["metadata"]["name"]: o for o in corednsworld.kube(world.kube) if o["kind"] == "ConfigMap"}
    return parse_coredns(objects["coredns"]["data"]["Corefile"], objects["coredns-custom"].get("data") or {})


def _serve_relays(c: Cluster, coredns_spec: relay.RelaySpec | None, localdns_spec: relay.RelaySpec | None) -> None:
    """The CoreDNS pods, the Service in front of them and, on a LocalDNS node, its two listeners."""
    config = coredns_config(c.world)
    by_address = {address: c.endpoints[role] for role, address in c.shown.items()}
    pods = {o["status"]["podIP"]: o for o in corednsworld.kube(c.world.kube) if o["kind"] == "Pod"}
    slice_ = next(o for o in corednsworld.kube(c.world.kube) if o["kind"] == "EndpointSlice")
    ready = [e["addresses"][0] for e in slice_["endpoints"] if e["conditions"].get("ready")]
    blocked = dict(c.world.blocked)
    handlers: dict[str, Any] = {}
    for i, (_, ip) in enumerate(PODS):
        role = f"coredns-{i}"
        c.shown[role] = ip
        status = pods[ip]["status"]["containerStatuses"][0]
        if "waiting" in status["state"]:  # crash-looping: no process, nothing listens at the pod's IP
            c.endpoints[role] = Endpoint("127.0.0.1", dnsserver.free_port())
            continue
        pod_relay = _coredns_relay(config, by_address, c.endpoints["custom"], coredns_spec, c.clock)
        c.lab.live.relays[role] = pod_relay
        handler = _rewriting(config, pod_relay.handle)
        if blocked.get(i) == "dead":
            handler = dnsserver.dead
        handlers[ip] = handler
        served = dnsserver.ServerSpec(handler, tcp=blocked.get(i) != "udp-only", name=role)
        c.endpoints[role] = c.servers.add(served)
    c.shown["kube-dns"] = KUBE_DNS_IP
    if ready:
        c.endpoints["kube-dns"] = c.servers.add(dnsserver.ServerSpec(handlers[ready[0]], name="kube-dns"))
    else:  # kube-proxy rejects a Service without endpoints
        c.endpoints["kube-dns"] = Endpoint("127.0.0.1", dnsserver.free_port())
    if c.world.localdns:
        spec = localdns_spec or relay.LOCALDNS
        zones = {zone: (c.endpoints[role],) for zone, role in c.world.localdns_zones}
        listeners = {"localdns-kube": (LOCALDNS_KUBE_IP, spec, zones, (c.endpoints["kube-dns"],)),
                     "localdns-vnet": (LOCALDNS_VNET_IP, spec, {}, (c.endpoints["custom"],))}  # fmt: skip
        for role, (ip, kind, forwards, default) in listeners.items():
            listener = c.lab.live.relays[role] = relay.Relay(kind, dict(forwards), default, c.clock)
            c.shown[role] = ip
            c.endpoints[role] = c.servers.add(dnsserver.ServerSpec(listener.handle, name=role))


def _coredns_relay(
    config: CoreDNSConfig,
    by_address: dict[str, Endpoint],
    node_dns: Endpoint,
    spec: relay.RelaySpec | None,
    clock: relay.LabClock,
) -> relay.Relay:
    """A CoreDNS pod as a relay: each server block's forward (by zone), the node's resolver for a path target."""

    def targets(block: Any) -> tuple[Endpoint, ...]:
        from aksdiag.corefile.plugins import read_forward

        forward = next((read_forward(d) for d in block.directives if d.name == "forward"), None)
        if forward is None or forward.node_resolver:
            return (node_dns,)
        hosts = [t.removeprefix("dns://").split(":")[0] for t in forward.targets]
        return tuple(by_address.get(h, Endpoint(h, 53)) for h in hosts)

    forwards: dict[str, tuple[Endpoint, ...]] = {}
    default: tuple[Endpoint, ...] = (node_dns,)
    for block in config.blocks:
        for key in block.keys:
            if key.port == 53 and key.zone == ".":
                default = targets(block)
            elif key.port == 53:
                forwards[key.zone.rstrip(".")] = targets(block)
    return relay.Relay(spec or relay.AKS_COREDNS, forwards, default, clock)


def _rewriting(config: CoreDNSConfig, handler: dnsserver.Handler) -> dnsserver.Handler:
    """CoreDNS's `rewrite` in front of the relay: the name the block rewrites to is asked, the answer's owner names
    become the name asked again (the `answer name` rule of AKS's examples)."""
    import dns.flags
    import dns.message
    import dns.name
    import dns.rrset

    async def handle(query: dns.message.Message, transport: str) -> dnsserver.Reply:
        asked = query.question[0].name
        explained = config.explain(asked.to_text())
        if explained is None or explained.rewritten == asked.to_text().lower():
            return await handler(query, transport)
        inner = dns.message.make_query(explained.rewritten, query.question[0].rdtype)
        reply = await handler(inner, transport)
        if not isinstance(reply, dns.message.Message):
            return reply
        out = dns.message.make_response(query)
        out.flags, out.authority = reply.flags | (query.flags & dns.flags.RD), reply.authority
        out.set_rcode(reply.rcode())
        new = dns.name.from_text(explained.rewritten)
        for rrset in reply.answer:
            owner = asked if rrset.name == new else rrset.name
            out.answer.append(dns.rrset.from_rdata_list(owner, rrset.ttl, list(rrset)))
        out.id = query.id
        return out

    return handle


def _set_up(c: Cluster) -> None:
    """`fix`: the relays cache the NXDOMAIN, then the forwarder is added; `die`: they cache the answer, then the
    custom server goes silent and the clock moves past the answers' TTLs."""
    if not c.world.setup:
        return
    relays = [r for r in ("localdns-kube", "localdns-vnet", "coredns-0", "coredns-1") if r in c.lab.live.relays]
    for role in relays:
        _ask(c.endpoints[role])
    if c.world.setup == "fix":
        c.lab.add_forward("custom", FORWARD_ZONE, "azure")
    elif c.world.setup == "die":
        c.lab.take_down("custom")
        c.clock.advance(STALE_AFTER)


def _ask(server: Endpoint, name: str = CLUSTER_FQDN) -> None:
    import dns.message
    import dns.query

    dns.query.udp(dns.message.make_query(name, "A"), server.host, port=server.port, timeout=5.0)
