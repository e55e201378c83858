"""The cluster's own DNS layer end to end, through the real CLI, on every lab cluster of aksdiag.lab.clusterdnsworld
(kube-dns, the CoreDNS pods and LocalDNS are live relays at the addresses the fake API shows):

- in the cluster: `aksdiag pod -- dns FQDN --server 10.1.0.4` against the fake API server, the simulated kubelet
  running the pod's aksdiag with the ClusterFirst resolv.conf (10.0.0.10, or LocalDNS's 169.254.10.11), the pod's
  service account token and exactly what container/rbac.yaml grants it;
- from the jump box: `aksdiag dns FQDN --kubeconfig …` with the VNet's DNS server in resolv.conf, where the
  ClusterIP, the pod IPs and LocalDNS are unreachable (not a finding there).

Each names exactly its world's error and warning codes (a healthy world: verdict ok, exit 0); dns_chain never
raises DNS001/003/005/006/008/017 on a relay hop, and no fix names a relay as a DNS server to configure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aksdiag.cli import main
from aksdiag.clusterdns import LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP
from aksdiag.lab import arm, armworld, clusterdnsworld
from aksdiag.lab.clusterdnsworld import CUSTOM_IP, WORLDS, Cluster
from aksdiag.lab.corednsworld import KUBE_DNS_IP, NODES, PODS
from aksdiag.lab.kubelet import SimulatedKubelet
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP

IMAGE = "aksdiagacr.azurecr.io/aksdiag:test"
RELAY_IPS = {KUBE_DNS_IP, LOCALDNS_KUBE_IP, LOCALDNS_VNET_IP, *(ip for _, ip in PODS)}
RELAY_KINDS = {"coredns", "coredns-pod", "localdns"}
CHAIN_SERVER_CODES = {"DNS001", "DNS003", "DNS005", "DNS006", "DNS008", "DNS017"}
TIMING = ["--timeout", "3", "--slow-ms", "1500"]
"""A relay answers SERVFAIL only once its own upstream timed out (1.5 s): the question waits longer; and lab answers
cross up to four relays on a machine the whole suite shares: a busy moment is no DNS009."""
DNS_ARGS = ["dns", CLUSTER_FQDN, "--server", CUSTOM_IP, "--expect", ENDPOINT_IP, *TIMING]


@dataclass
class Lab:
    cluster: Cluster
    kubelet: SimulatedKubelet
    kubeconfig: str
    arm: Any = None
    """The fake ARM of the world's `arm` world (the pools' LocalDNS profile), when it has one."""

    def azure(self) -> list[str]:
        """The Azure context flags (the pod inherits the fake ARM's endpoint and CA from the environment)."""
        if self.arm is None:
            return []
        return ["--cluster", armworld.CLUSTER, "--resource-group", armworld.CLUSTER_RG,
                "--subscription", armworld.SUBSCRIPTION]  # fmt: skip


@pytest.fixture
def lab_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    running: list[Any] = []

    def start(name: str, backend: str = "python") -> Lab:
        cluster = clusterdnsworld.start(name, tmp_path / f"cluster-{len(running)}", backend=backend)
        running.append(cluster)
        api = cluster.serve_api()
        kubelet = SimulatedKubelet(api, cluster.nodes(), tmp_path / f"kubelet-{len(running)}")
        running.append(kubelet)
        lab = Lab(cluster, kubelet, str(api.kubeconfig(tmp_path / f"kubeconfig-{len(running)}")))
        if cluster.world.arm:
            resources = arm.ArmWorld()
            for body in armworld.build(cluster.world.arm):
                resources.add(body)
            lab.arm = arm.FakeArm(resources, tmp_path / f"arm-{len(running)}")
            running.append(lab.arm)
            monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", lab.arm.endpoint)
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", lab.arm.ca_path)
        return lab

    yield start
    for closing in reversed(running):
        closing.close()


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any], str]:
    rc = main(args)
    captured = capsys.readouterr()
    assert captured.out.startswith("{"), captured.out + captured.err
    return rc, json.loads(captured.out), captured.err


def in_pod(lab: Lab, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    args = ["pod", "--kubeconfig", lab.kubeconfig, "--image", IMAGE, "--node", NODES[0], "--timeout", "90"]
    return run(capsys, [*args, "-o", "json", "--", *DNS_ARGS, *lab.azure()])


def dns_takes_a_kubeconfig() -> bool:
    from aksdiag.cli.parser import build_parser

    _, unknown = build_parser().parse_known_args(["dns", CLUSTER_FQDN, "--kubeconfig", "kubeconfig"])
    return not unknown


def from_jump_box(lab: Lab, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", lab.cluster.address_map(in_cluster=False))
    monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(lab.cluster.jumpbox_resolv_conf()))
    monkeypatch.setenv("AKSDIAG_AZURE_DNS", clusterdnsworld.AZURE_IP)
    args = ["dns", CLUSTER_FQDN, "--kubeconfig", lab.kubeconfig, "--expect", ENDPOINT_IP, *TIMING]
    return run(capsys, [*args, *lab.azure(), "-o", "json"])


def alarms(doc: dict[str, Any]) -> set[str]:
    return {f["id"] for f in doc["findings"] if f["severity"] != "info"}


def probe(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [p for p in doc["probes"] if p["probe"] == name]
    assert found, f"no {name} probe in {[p['probe'] for p in doc['probes']]}"
    return found[0]


def assert_relays_are_relays(doc: dict[str, Any]) -> None:
    """dns_chain draws each relay as a relay and judges none; no fix configures a relay as a DNS server."""
    chain = probe(doc, "dns_chain")
    hops = {h["index"]: h for h in chain["hops"]}
    for f in doc["findings"]:
        if f["probe"] == "dns_chain" and f["id"] in CHAIN_SERVER_CODES:
            hop = hops.get(f.get("hop") or 0, {})
            assert hop.get("kind") not in RELAY_KINDS, f"dns_chain {f['id']} on relay hop {hop}"
            assert not any(ip in f["detail"].split(" answered")[0] for ip in RELAY_IPS), f
        text = f"{f['remediation']} {f.get('command') or ''}"
        assert "-ComputerName 10.0.0.10" not in text and "ComputerName 169.254" not in text, f
        if f["probe"] == "dns_chain":
            assert not any(ip in text for ip in RELAY_IPS), f"dns_chain's fix names a relay: {f}"
    for hop in chain["hops"]:
        server = (hop.get("server") or "").rsplit(":", 1)[0]
        if server in RELAY_IPS and hop["kind"] != "resolver":  # the resolver hop names its nameserver
            assert hop["kind"] in RELAY_KINDS, hop
        if hop["kind"] == "custom-dns":
            assert server not in RELAY_IPS, hop


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_in_the_pod_each_world_names_exactly_its_codes(name: str, lab_cluster: Any, capsys: Any) -> None:
    world = WORLDS[name]
    lab = lab_cluster(name)
    rc, doc, err = in_pod(lab, capsys)
    assert doc["command"] == "pod dns", err
    if lab.arm is not None:
        assert lab.arm.requests and lab.arm.writes() == [], "the pod read the pools' LocalDNS from ARM, only read"
    assert alarms(doc) == world.expected, json.dumps(doc["findings"], indent=1)
    assert world.info <= {f["id"] for f in doc["findings"]}
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert rc == (1 if errors else 0), err
    if not world.expected:
        assert doc["verdict"] == "ok"
    assert_relays_are_relays(doc)
    relays = probe(doc, "cluster_dns")
    assert relays["status"] not in ("skipped", "error"), relays
    first = LOCALDNS_KUBE_IP if world.localdns else KUBE_DNS_IP
    resolver = probe(doc, "dns_chain")["hops"][0]
    assert first in (resolver.get("detail") or "") + (resolver.get("server") or ""), resolver


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_from_the_jump_box_each_world_names_exactly_its_codes(
    name: str, lab_cluster: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not dns_takes_a_kubeconfig():
        pytest.xfail("`aksdiag dns` has no --kubeconfig yet (settings.kube, which cluster_dns reads from a jump box)")
    world = WORLDS[name]
    lab = lab_cluster(name)
    rc, doc, err = from_jump_box(lab, capsys, monkeypatch)
    assert alarms(doc) == world.jumpbox, json.dumps(doc["findings"], indent=1)
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert rc == (1 if errors else 0), err
    assert_relays_are_relays(doc)
    relays = probe(doc, "cluster_dns")
    assert relays["status"] not in ("skipped", "error"), relays
    kube_dns = [h for h in relays["hops"] if (h.get("server") or "").startswith(f"{KUBE_DNS_IP}:")]
    assert kube_dns, relays["hops"]
    if not {f["id"] for f in doc["findings"] if f["probe"] == "cluster_dns"}:
        assert all(h["status"] != "fail" for h in kube_dns), "unanswered from outside the cluster is no failure"
        assert all("only inside the cluster" in (h.get("detail") or "") for h in kube_dns), kube_dns


def test_without_the_coredns_role_the_pod_names_the_missing_rule_and_still_checks(
    lab_cluster: Any, capsys: Any
) -> None:
    lab = lab_cluster("cluster-rbac-no-coredns")
    rc, doc, err = in_pod(lab, capsys)
    assert rc == 0 and doc["verdict"] == "ok", err
    found = [f for f in doc["findings"] if f["id"] == "DNS037"]
    assert len(found) == 1, found
    (dns037,) = found
    text = f"{dns037['detail']} {dns037['remediation']}"
    assert "configmaps" in text and "coredns-custom" in text and "kube-system" in text, text
    assert "container/rbac.yaml" in text or "aksdiag-coredns-reader" in text, text
    relays = probe(doc, "cluster_dns")
    assert relays["status"] == "ok" and any((h.get("server") or "").startswith(KUBE_DNS_IP) for h in relays["hops"])
    assert probe(doc, "dns_chain")["status"] == "ok"
    pod_reads = [p for u, m, p in lab.cluster.api.requests_by if u.startswith("system:serviceaccount:aksdiag:")]
    assert any("/configmaps/coredns" in p for p in pod_reads), "the pod asked, as its own service account"


def test_force_tcp_without_the_pools_profile_is_still_named_in_the_pod(lab_cluster: Any, capsys: Any) -> None:
    """Without Azure context the pod cannot read the override: LocalDNS failing while the VNet's server answers over
    UDP only is still DNS034 (cluster_dns infers it), beside dns_chain's DNS017 on the custom server itself."""
    lab = lab_cluster("cluster-localdns-force-tcp")
    lab.arm = None
    rc, doc, _ = in_pod(lab, capsys)
    assert rc == 1 and alarms(doc) == {"DNS034", "DNS017"}, json.dumps(doc["findings"], indent=1)
    (dns017,) = [f for f in doc["findings"] if f["id"] == "DNS017"]
    assert CUSTOM_IP in dns017["detail"] and dns017["probe"] == "dns_chain"
    assert_relays_are_relays(doc)


@pytest.mark.parametrize(("name", "code", "words"), [
    ("cluster-cached-nxdomain", "DNS032", ["NXDOMAIN", "expires in 30 s", "rollout restart deployment coredns"]),
    ("cluster-custom-forward", "DNS031", ["privatelink.server", "line 4", clusterdnsworld.WRONG_FORWARD]),
    ("cluster-custom-rewrite", "DNS031", ["privatelink.override", "rewrites"]),
    ("cluster-pod-blocked", "DNS030", [PODS[1][1]]),
    ("cluster-coredns-crashloop", "DNS029", [PODS[1][0]]),
])  # fmt: skip
def test_the_pods_finding_names_the_layer_that_is_wrong(
    name: str, code: str, words: list[str], lab_cluster: Any, capsys: Any
) -> None:
    _, doc, _ = in_pod(lab_cluster(name), capsys)
    (finding,) = [f for f in doc["findings"] if f["id"] == code]
    text = f"{finding['detail']} {finding['remediation']}"
    assert all(w in text for w in words), text
    assert finding["probe"] == "cluster_dns"


@pytest.mark.bind
@pytest.mark.parametrize("name", ["cluster-coredns-healthy", "cluster-custom-forward", "cluster-localdns-force-tcp"])
def test_with_bind_behind_the_relays_the_pod_names_the_same_codes(
    name: str, lab_cluster: Any, capsys: Any, bind_required: None
) -> None:
    """Real BIND 9 plays the custom server, Azure DNS, public DNS and the old server (a UDP-only one stays Python)."""
    lab = lab_cluster(name, backend="bind")
    assert lab.cluster.lab.backend == "bind"
    rc, doc, err = in_pod(lab, capsys)
    assert alarms(doc) == WORLDS[name].expected, json.dumps(doc["findings"], indent=1)
    assert rc == (1 if WORLDS[name].expected else 0), err
    assert_relays_are_relays(doc)
