"""The lab cluster whose CoreDNS is the DNS lab's relays (aksdiag.lab.clusterdnsworld): every address the kube world
shows answers for real through the address map, as a pod sees it (kube-dns 10.0.0.10, each CoreDNS pod IP, LocalDNS's
listeners, the VNet's custom server, Azure DNS) and as a jump box sees it (the cluster's addresses unreachable); the
relays are built from the ConfigMaps the fake API serves, and the simulated kubelet gives ClusterFirst pods kube-dns
(or LocalDNS). Questions are dig-like, with dnspython, sent where aksdiag's own address map sends them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from labup import lab_up

from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP
from aksdiag.facts import Endpoint
from aksdiag.lab import clusterdnsworld
from aksdiag.lab.clusterdnsworld import AZURE_IP, CUSTOM_IP, WORLDS, Cluster
from aksdiag.lab.corednsworld import KUBE_DNS_IP, PODS, WRONG_FORWARD
from aksdiag.lab.relayscenarios import RELAY_SCENARIOS
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP, FORWARD_ZONE
from aksdiag.settings import parse_address_map
from aksdiag.sources.route import destination

H, NX, SF, TO, REF = ENDPOINT_IP, "NXDOMAIN", "SERVFAIL", "timeout", "refused"
POD0, POD1 = PODS[0][1], PODS[1][1]
HEALTHY = {CUSTOM_IP: (H, H), AZURE_IP: (H, H), POD0: (H, H), POD1: (H, H), KUBE_DNS_IP: (H, H)}
LOCALDNS = {LOCALDNS_KUBE_IP: (H, H), LOCALDNS_VNET_IP: (H, H)}
RELAYED_NX = {POD0: (NX, NX), POD1: (NX, NX), KUBE_DNS_IP: (NX, NX)}
RELAYED_SF = {POD0: (SF, SF), POD1: (SF, SF), KUBE_DNS_IP: (SF, SF)}

# world → what each shown address answers over (UDP, TCP), from inside the cluster
ANSWERS: dict[str, dict[str, tuple[str, str]]] = {
    "cluster-coredns-healthy": HEALTHY,
    "cluster-localdns-healthy": HEALTHY | LOCALDNS,
    "cluster-cached-nxdomain": HEALTHY | RELAYED_NX,
    "cluster-custom-forward": HEALTHY | RELAYED_NX | {WRONG_FORWARD: (NX, NX)},
    "cluster-custom-rewrite": HEALTHY | RELAYED_NX,
    "cluster-coredns-not-ready": HEALTHY,
    "cluster-coredns-crashloop": HEALTHY | {POD1: (TO, REF)},
    "cluster-coredns-down": HEALTHY | {KUBE_DNS_IP: (TO, REF)},
    "cluster-pod-blocked": HEALTHY | {POD1: (TO, TO)},
    "cluster-pod-udp-only": HEALTHY | {POD1: (H, REF)},
    "cluster-localdns-force-tcp": HEALTHY
    | {CUSTOM_IP: (H, REF), LOCALDNS_KUBE_IP: (SF, SF), LOCALDNS_VNET_IP: (SF, SF)},
    "cluster-dead-upstream": HEALTHY | RELAYED_SF | {CUSTOM_IP: (TO, TO)},
    "cluster-serve-stale": HEALTHY | RELAYED_SF | {CUSTOM_IP: (TO, TO)} | LOCALDNS,
    "cluster-stale-off": HEALTHY | RELAYED_SF | {CUSTOM_IP: (TO, TO)},
    "cluster-rbac-no-coredns": HEALTHY,
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Any]:
    started: list[Cluster] = []

    def start(name: str) -> Cluster:
        c = clusterdnsworld.start(name, tmp_path / f"cluster-{len(started)}")
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()


def ask(server: Endpoint, transport: str = "udp", name: str = CLUSTER_FQDN) -> tuple[str, int | None]:
    """`dig @server name A` in short: the addresses (or the rcode, timeout, refused) and the smallest TTL shown."""
    send = dns.query.udp if transport == "udp" else dns.query.tcp
    try:
        reply = send(dns.message.make_query(name, "A"), server.host, port=server.port, timeout=2.5)
    except dns.exception.Timeout:
        return TO, None
    except ConnectionRefusedError:
        return REF, None
    addresses = sorted(str(r) for rrset in reply.answer for r in rrset if r.rdtype == dns.rdatatype.A)
    ttls = [r.ttl for r in reply.answer + reply.authority]
    return (",".join(addresses) or dns.rcode.to_text(reply.rcode())), (min(ttls) if ttls else None)


def seen_from(c: Cluster, in_cluster: bool) -> dict[str, tuple[str, str]]:
    """Every shown address asked over UDP and TCP at once, sent where AKSDIAG_ADDRESS_MAP sends it."""
    from aksdiag.settings import Settings

    settings = Settings(address_map=parse_address_map(c.address_map(in_cluster)))
    addresses = list(c.shown.values())
    with ThreadPoolExecutor(len(addresses) * 2) as pool:
        futures = {(a, t): pool.submit(ask, destination(Endpoint(a, 53), settings), t)
                   for a in addresses for t in ("udp", "tcp")}  # fmt: skip
        return {a: (futures[a, "udp"].result()[0], futures[a, "tcp"].result()[0]) for a in addresses}


def test_every_world_has_its_table_and_its_scenario() -> None:
    assert set(ANSWERS) == set(WORLDS)
    for world in WORLDS.values():
        assert world.dns in RELAY_SCENARIOS and world.kube in clusterdnsworld.corednsworld.WORLDS
        assert world.expected <= {f"DNS0{n}" for n in range(29, 38)} | {"DNS005", "DNS017"}
    assert set(clusterdnsworld.PLAYS) == set(RELAY_SCENARIOS), "every relay scenario is played by a cluster"
    for scenario, played in clusterdnsworld.PLAYS.items():
        assert WORLDS[played].dns == scenario and WORLDS[played].expected == RELAY_SCENARIOS[scenario].expected


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_pod_gets_each_address_answer(name: str, cluster: Any) -> None:
    c = cluster(name)
    got = seen_from(c, in_cluster=True)
    assert got == ANSWERS[name]
    first = LOCALDNS_KUBE_IP if c.world.localdns else KUBE_DNS_IP
    assert got[first][0] == c.world.answer, "the pod's first nameserver gives the world's answer"


@pytest.mark.parametrize("name", ["cluster-coredns-healthy", "cluster-localdns-healthy", "cluster-dead-upstream"])
def test_from_the_jump_box_only_the_vnet_servers_answer(name: str, cluster: Any) -> None:
    c = cluster(name)
    got = seen_from(c, in_cluster=False)
    inside = {a for r, a in c.shown.items() if r not in clusterdnsworld.SHOWN}
    assert inside >= {KUBE_DNS_IP, POD0, POD1}
    assert all(got[a] == (TO, TO) for a in inside), "ClusterIP, overlay pod IPs and LocalDNS: unreachable"
    assert {a: got[a] for a in got if a not in inside} == {a: ANSWERS[name][a] for a in got if a not in inside}


def test_the_pods_relays_are_the_configmaps_and_agree_with_the_relay_scenario(cluster: Any) -> None:
    c = cluster("cluster-custom-forward")
    scenario_relay = RELAY_SCENARIOS["relay-override-wrong"].server("coredns")
    assert dict(scenario_relay.forwards) == {FORWARD_ZONE: "old-dns"}
    for role in ("coredns-0", "coredns-1"):
        pod = c.lab.live.relays[role]
        assert pod.forwards == {FORWARD_ZONE: (c.endpoints["old-dns"],)}, "coredns-custom's privatelink.server"
        assert pod.default == (c.endpoints["custom"],), "forward . /etc/resolv.conf: the node's VNet DNS"
        assert (pod.spec.success_ttl, pod.spec.denial_ttl) == (30, 30), "cache 30"
    explained = clusterdnsworld.coredns_config(c.world).explain(CLUSTER_FQDN)
    assert explained is not None and explained.forward is not None
    assert explained.forward.targets == (WRONG_FORWARD,) == (c.shown["old-dns"],)
    healthy = cluster("cluster-coredns-healthy")
    assert healthy.lab.live.relays["coredns-0"].forwards == {}


def test_the_rewrite_asks_the_public_name_and_answers_as_asked(cluster: Any) -> None:
    c = cluster("cluster-custom-rewrite")
    explained = clusterdnsworld.coredns_config(c.world).explain(CLUSTER_FQDN)
    assert explained is not None and ".privatelink." not in explained.rewritten
    public = "aks-lab-k3x9q2-5c2d.hcp.privatelink.koreacentral.azmk8s.io"  # rewritten to the public zone's name
    reply = dns.query.udp(dns.message.make_query(public, "A"), "127.0.0.1", port=c.endpoints["kube-dns"].port,
                          timeout=3)  # fmt: skip
    assert [(r.name.to_text(omit_final_dot=True), [str(x) for x in r]) for r in reply.answer] == [(public, [H])]


def test_the_cached_nxdomain_outlives_the_fix_until_the_relays_are_flushed(cluster: Any) -> None:
    c = cluster("cluster-cached-nxdomain")
    assert ask(c.endpoints["custom"]) == (H, 60), "the custom server has its forwarder now"
    assert ask(c.endpoints["kube-dns"]) == (NX, 30), "CoreDNS's denial, capped by cache 30 (the clock is frozen)"
    c.clock.advance(12)
    assert ask(c.endpoints["coredns-1"]) == (NX, 18), "the other pod cached it too, counting down"
    c.lab.flush("coredns-0")
    assert ask(c.endpoints["kube-dns"]) == (H, 30), "the Service is the first pod: flushed, it gets the fix"
    assert ask(c.endpoints["coredns-1"])[0] == NX


def test_serve_stale_answers_the_dead_upstreams_entry_with_ttl_0(cluster: Any) -> None:
    c = cluster("cluster-serve-stale")
    assert ask(c.endpoints["localdns-kube"]) == (H, 0)
    assert ask(c.endpoints["kube-dns"]) == (SF, None), "CoreDNS has no serve_stale: expired, its upstream silent"


@pytest.mark.parametrize(("name", "granted"), [("cluster-coredns-healthy", True), ("cluster-rbac-no-coredns", False)])
def test_the_fake_api_serves_the_kube_dns_layer_and_rbac_yaml_to_the_pod(
    name: str, granted: bool, cluster: Any, tmp_path: Path
) -> None:
    """As the pod's service account (its token, as the kubelet mounts it): what container/rbac.yaml grants."""
    from kubernetes import client, config

    c = cluster(name)
    api = c.serve_api()
    configuration = client.Configuration()
    token = api.service_account_token("aksdiag", "aksdiag")
    config.load_kube_config(
        str(api.kubeconfig(tmp_path / "kubeconfig", token=token)), client_configuration=configuration
    )
    with client.ApiClient(configuration) as api_client:
        v1, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
        (svc,) = v1.list_namespaced_service("kube-system", field_selector="metadata.name=kube-dns").items
        assert svc.spec.cluster_ip == KUBE_DNS_IP == c.shown["kube-dns"]
        (slice_,) = discovery.list_namespaced_endpoint_slice(
            "kube-system", label_selector="kubernetes.io/service-name=kube-dns"
        ).items
        assert [e.addresses[0] for e in slice_.endpoints] == [c.shown["coredns-0"], c.shown["coredns-1"]]
        if granted:
            assert "Corefile" in v1.read_namespaced_config_map("coredns", "kube-system").data
            assert v1.read_namespaced_config_map("coredns-custom", "kube-system").data is None, "empty"
        for configmap in () if granted else ("coredns", "coredns-custom"):
            with pytest.raises(client.ApiException) as denied:
                v1.read_namespaced_config_map(configmap, "kube-system")
            assert denied.value.status == 403
        with pytest.raises(client.ApiException) as listing:
            v1.list_namespaced_config_map("kube-system")
        assert listing.value.status == 403, "resourceNames grant a GET of those two only"


@pytest.mark.parametrize(("name", "first"), [("cluster-coredns-healthy", KUBE_DNS_IP),
                                             ("cluster-localdns-healthy", LOCALDNS_KUBE_IP)])  # fmt: skip
def test_the_kubelet_gives_clusterfirst_pods_kube_dns_or_localdns(name: str, first: str, cluster: Any) -> None:
    c = cluster(name)
    nodes = c.nodes()
    assert set(nodes) == set(clusterdnsworld.NODES)
    for node in nodes.values():
        assert node.cluster_dns == Endpoint(first, 53)
        assert node.env["AKSDIAG_ADDRESS_MAP"] == c.address_map() and node.env["AKSDIAG_AZURE_DNS"] == AZURE_IP
        node_server = LOCALDNS_VNET_IP if c.world.localdns else CUSTOM_IP
        assert node.node_resolv_conf.read_text() == f"nameserver {node_server}\n"


def test_lab_list_and_up_offer_the_clusters() -> None:
    out = subprocess.run([sys.executable, "-m", "aksdiag", "lab", "list"], capture_output=True, text=True,
                         timeout=60, check=True).stdout  # fmt: skip
    for name, world in WORLDS.items():
        codes = ", ".join(sorted(world.expected)) or "no fault"
        assert re.search(rf"^  {name} +{re.escape(codes)} ", out, re.M), name
    with lab_up("cluster-cached-nxdomain") as up:
        assert {"kube-dns", "coredns-0", "coredns-1", "custom", "azure"} <= set(up.ports), up.text
        assert f"{KUBE_DNS_IP}=127.0.0.1:{up.ports['kube-dns']}" in up.text, "the pod's address map"
        assert "--kubeconfig" in up.text and "fake Kubernetes API server at https://127.0.0.1:" in up.text
        assert ask(Endpoint("127.0.0.1", up.ports["kube-dns"]))[0] == NX, "the cached NXDOMAIN, after the fix"
        assert ask(Endpoint("127.0.0.1", up.ports["custom"]))[0] == H
    assert up.returncode == 0, up.stderr
