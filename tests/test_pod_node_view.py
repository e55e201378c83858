"""The node's view through `aksdiag pod`: the real CLI against the fake API server, with a simulated kubelet whose
nodes each have their own resolver files (systemd-resolved's stub in /etc/resolv.conf, the DHCP-given upstreams in
/run/systemd/resolve/resolv.conf). Two pools; in the broken cluster one node of the second pool still asks the old
DNS server (F5: the VNet's DNS servers changed, that node never renewed its lease). `--vnet-dns`, the VNet's DNS
servers read from the fake ARM, the read-only hostPath mounts of --node-resolver-files and the --all-nodes table
that says which node differs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import corednsworld, kubeworlds
from aksdiag.lab.armworld import CLUSTER, CLUSTER_RG, DNS_SERVER_IP, SUBSCRIPTION
from aksdiag.lab.kube import BY_KIND, FakeKubeApi, KubeWorld
from aksdiag.lab.kubelet import NodeBehaviour, SimulatedKubelet
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP
from aksdiag.pod import spec

IMAGE = "aksdiagacr.azurecr.io/aksdiag:test"
NEW_DNS, OLD_DNS = DNS_SERVER_IP, "10.1.0.9"
"""The VNet's DNS server now (the fake ARM's), and the one it had before: the lab's healthy and no-forwarder worlds."""
SYSTEM = ["aks-system-12345678-vmss000000", "aks-system-12345678-vmss000001"]
USER = ["aks-user-87654321-vmss000000", "aks-user-87654321-vmss000001"]
STALE = USER[1]
DNS_ARGS = [
    "dns",
    CLUSTER_FQDN,
    "--expect",
    ENDPOINT_IP,
    "--timeout",
    "1",
    "--slow-ms",
    "3000",
]  # a busy machine is not DNS009
NODE_VIEW = ["--host-network", "--dns-policy", "Default", "--node-resolver-files"]


@dataclass
class Cluster:
    api: FakeKubeApi
    kubeconfig: str

    def args(self, *extra: str) -> list[str]:
        return ["pod", "--kubeconfig", self.kubeconfig, "--image", IMAGE, *extra]

    def created(self) -> list[dict]:
        """The pods aksdiag created, in order (the CoreDNS pods of kube-system are not among them)."""
        added = [e.object for e in self.api.world.events if e.type == "ADDED" and e.resource is BY_KIND["Pod"]]
        return [p for p in added if ours(p)]

    def left(self) -> list[dict]:
        return [p for p in self.api.world.objects[BY_KIND["Pod"]].values() if ours(p)]


def ours(pod: dict) -> bool:
    return (pod["metadata"].get("labels") or {}).get(spec.MANAGED_BY) == "aksdiag"


@pytest.fixture
def cluster(tmp_path: Path, start_world) -> Iterator[object]:
    """cluster(stale=…, missing_resolved=…): two pools of two nodes; the `stale` nodes' upstreams are the old DNS
    server; `missing_resolved` nodes have no /run/systemd/resolve (a node without systemd-resolved)."""
    running: list[tuple[FakeKubeApi, SimulatedKubelet]] = []
    new, old = start_world("healthy"), start_world("no-forwarder")
    relays = [corednsworld.KUBE_DNS_IP, *(ip for _, ip in corednsworld.PODS)]
    coredns = [f"{ip}={new.endpoints['custom']}" for ip in relays]  # CoreDNS, forwarding to the VNet's new server

    def start(stale: tuple[str, ...] = (), missing_resolved: tuple[str, ...] = ()) -> Cluster:
        objects, nodes = [], {}
        for i, name in enumerate([*SYSTEM, *USER]):
            body = kubeworlds.node(name, f"10.240.0.{4 + i}", [], i)
            body["metadata"]["labels"] = {"kubernetes.azure.com/agentpool": "system" if name in SYSTEM else "user",
                                          "kubernetes.io/os": "linux"}  # fmt: skip
            body["status"]["conditions"] = [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]
            objects.append(body)
            upstream, world = (OLD_DNS, old) if name in stale else (NEW_DNS, new)
            root = tmp_path / f"node-{len(running)}-{name}"
            (root / "run-systemd-resolve").mkdir(parents=True)
            (root / "run-systemd-resolve" / "resolv.conf").write_text(f"nameserver {upstream}\nsearch .\n")
            (root / "etc-resolv.conf").write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n")
            files = {"/etc/resolv.conf": root / "etc-resolv.conf"}
            if name not in missing_resolved:
                files["/run/systemd/resolve"] = root / "run-systemd-resolve"
            address_map = ",".join([f"127.0.0.53={world.endpoints['custom']}", f"{NEW_DNS}={new.endpoints['custom']}",
                                    f"{OLD_DNS}={old.endpoints['custom']}", *coredns])  # fmt: skip
            nodes[name] = NodeBehaviour(
                root / "run-systemd-resolve" / "resolv.conf",  # the kubelet's --resolv-conf: what Default gives
                host_files=files,
                env={"AKSDIAG_AZURE_DNS": str(new.azure_dns), "AKSDIAG_ADDRESS_MAP": address_map},
            )
        for ns in (spec.DEFAULT_NAMESPACE, spec.HOST_NETWORK_NAMESPACE):
            objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "aksdiag", "namespace": ns}}]  # fmt: skip
        world = KubeWorld()
        world.add_all([*objects, *(o for o in corednsworld.kube("coredns-healthy") if o["kind"] != "Node")])
        api = FakeKubeApi(world, tmp_path / f"pki-{len(running)}")
        kubelet = SimulatedKubelet(api, nodes, tmp_path / f"kubelet-{len(running)}")
        running.append((api, kubelet))
        return Cluster(api, str(api.kubeconfig(tmp_path / f"kubeconfig-{len(running)}")))

    yield start
    for api, kubelet in running:
        kubelet.close()
        api.close()


def run_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict, str]:
    rc = main(args)
    captured = capsys.readouterr()
    assert captured.out.startswith("{"), captured.err
    return rc, json.loads(captured.out), captured.err


def dns036_ships() -> bool:
    """D's DNS036 (dns_chain): asserted on exactly the stale node once the probe declares it."""
    from aksdiag import probe

    return any("DNS036" in p.codes for p in probe.for_command("dns"))


def table(doc: dict) -> dict:
    (resolvers,) = doc["probes"][0]["tables"]
    return resolvers


def test_all_nodes_says_which_node_still_asks_the_old_dns_server(cluster, capsys) -> None:
    c = cluster(stale=(STALE,))
    args = c.args("--all-nodes", *NODE_VIEW, "-o", "json", "--", *DNS_ARGS, "--vnet-dns", NEW_DNS)
    rc, doc, err = run_json(capsys, args)
    resolvers = table(doc)
    assert resolvers["title"] == f"Node resolvers: 1 of 4 nodes differ from the VNet's DNS servers ({NEW_DNS})"
    assert resolvers["columns"] == ["node", "pool", "nameservers", "upstreams", "vs VNet DNS"]
    rows = {r[0]: r for r in resolvers["rows"]}
    assert rows[STALE] == [STALE, "user", "127.0.0.53", OLD_DNS, "differs"]
    for name in [*SYSTEM, USER[0]]:
        assert rows[name][2:] == ["127.0.0.53", NEW_DNS, "same"], "the node's real upstreams, read from its files"
    assert rows[SYSTEM[0]][1] == "system"
    matrix = {r["node"]: r for r in doc["probes"][0]["facts"]["matrix"]["rows"]}
    assert all(r["state"] == "ran" for r in matrix.values()), err
    assert all(matrix[n]["cells"] == {} for n in [*SYSTEM, USER[0]]), "nodes on the VNet's server: no alarm"
    assert matrix[STALE]["cells"], "the stale node's stub forwards to the old server, which lacks the forwarder"
    assert rc == 0 and doc["verdict"] == "degraded", "warnings only: the custom and Azure hops still answer right"
    if dns036_ships():
        assert "DNS036" in matrix[STALE]["cells"] and "DNS036" in {f["id"] for f in doc["findings"]}
        (dns036,) = [f for f in doc["findings"] if f["id"] == "DNS036"]
        assert dns036["evidence"]["nodes"] == [STALE] and dns036["detail"].startswith("On 1 of 4 nodes (1 of 2")
    assert c.left() == []


def test_all_nodes_healthy_cluster_raises_no_alarm(cluster, capsys) -> None:
    c = cluster()
    rc, doc, err = run_json(capsys, c.args("--all-nodes", *NODE_VIEW, "-o", "json", "--", *DNS_ARGS,
                                           "--vnet-dns", NEW_DNS))  # fmt: skip
    assert rc == 0 and doc["findings"] == [], err
    resolvers = table(doc)
    assert resolvers["title"].startswith("Node resolvers: 0 of 4 nodes differ")
    assert {r[4] for r in resolvers["rows"]} == {"same"} and len(resolvers["rows"]) == 4
    assert "not compared" not in err


def test_text_and_markdown_show_the_node_table(cluster, capsys) -> None:
    c = cluster(stale=(STALE,))
    base = c.args("--all-nodes", *NODE_VIEW, "--", *DNS_ARGS, "--vnet-dns", NEW_DNS)
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "Node resolvers: 1 of 4 nodes differ" in out
    line = next(line for line in out.splitlines() if STALE in line and OLD_DNS in line)
    assert "user" in line and "differs" in line
    assert "Nodes × findings" in out
    assert main([*base, "-o", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "Node resolvers: 1 of 4 nodes differ" in md
    assert any(STALE in row and OLD_DNS in row and row.startswith("|") for row in md.splitlines())


def test_the_hostpath_mounts_are_read_only_and_only_with_the_flag(cluster, capsys) -> None:
    c = cluster()
    rc, _, _ = run_json(capsys, c.args("--node", SYSTEM[0], *NODE_VIEW, "-o", "json", "--", *DNS_ARGS))
    assert rc == 0
    (pod,) = c.created()
    assert pod["metadata"]["namespace"] == spec.HOST_NETWORK_NAMESPACE
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["node-resolv-conf"]["hostPath"] == {"path": "/etc/resolv.conf", "type": "File"}
    assert volumes["node-systemd-resolve"]["hostPath"] == {"path": "/run/systemd/resolve", "type": "Directory"}
    (container,) = pod["spec"]["containers"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["node-resolv-conf"] == {"name": "node-resolv-conf", "mountPath": "/host/etc/resolv.conf",
                                          "readOnly": True}  # fmt: skip
    assert mounts["node-systemd-resolve"]["mountPath"] == "/host/run/systemd/resolve"
    assert mounts["node-systemd-resolve"]["readOnly"] is True and mounts["tmp"].get("readOnly") is None
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["AKSDIAG_RESOLVED_CONF"] == "/host/run/systemd/resolve/resolv.conf"
    args = container["args"]
    assert args[args.index("--resolv-conf") + 1] == "/host/etc/resolv.conf" and args[-2:] == ["--output", "json"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True

    rc, _, _ = run_json(capsys, c.args("--node", SYSTEM[0], "--host-network", "--dns-policy", "Default",
                                       "-o", "json", "--", *DNS_ARGS))  # fmt: skip
    assert rc == 0
    plain = c.created()[1]
    assert [v["name"] for v in plain["spec"]["volumes"]] == ["tmp"]
    assert "--resolv-conf" not in plain["spec"]["containers"][0]["args"]
    assert all("hostPath" not in v for v in plain["spec"]["volumes"])
    rc, _, _ = run_json(capsys, c.args("--node", SYSTEM[0], "-o", "json", "--", *DNS_ARGS))
    assert rc == 0 and c.created()[2]["metadata"]["namespace"] == spec.DEFAULT_NAMESPACE


def test_a_node_without_systemd_resolved_cannot_mount_it(cluster, capsys) -> None:
    c = cluster(missing_resolved=(SYSTEM[0],))
    assert main(c.args("--node", SYSTEM[0], *NODE_VIEW, "--timeout", "3", "--", *DNS_ARGS)) == 3
    err = capsys.readouterr().err
    assert "did not finish within 3 s (still Pending, ContainerCreating)" in err
    assert c.left() == []


def test_without_azure_context_the_node_view_is_shown_but_not_compared(cluster, capsys) -> None:
    c = cluster(stale=(STALE,))
    rc, doc, err = run_json(capsys, c.args("--node", STALE, *NODE_VIEW, "-o", "json", "--", *DNS_ARGS))
    assert rc == 1, "the server the node really asks (its upstream, the old one) is traced, and lacks the forwarder"
    assert any(f["id"] == "DNS001" and f["detail"].startswith(f"{OLD_DNS} (custom DNS)") for f in doc["findings"])
    assert err.count("the node's resolver is shown but not compared with the VNet's DNS servers") == 1
    assert "--vnet-dns" not in c.created()[0]["spec"]["containers"][0]["args"]
    chain = doc["probes"][1]
    assert chain["facts"]["resolver"]["upstreams"] == [f"{OLD_DNS}:53"]
    assert "DNS036" not in {f["id"] for f in doc["findings"]}, "nothing to compare with"


def test_the_vnet_dns_servers_come_from_azure_and_reach_the_pod(cluster, planes, capsys) -> None:
    planes("healthy", "healthy")
    c = cluster(stale=(STALE,))
    azure = ["--cluster", CLUSTER, "--resource-group", CLUSTER_RG, "--subscription", SUBSCRIPTION]
    rc, doc, err = run_json(capsys, c.args("--all-nodes", *NODE_VIEW, *azure, "-o", "json", "--", *DNS_ARGS))
    assert f"the VNet's DNS servers (from Azure): {NEW_DNS}" in err and "not compared" not in err
    for pod in c.created():
        args = pod["spec"]["containers"][0]["args"]
        assert args[args.index("--vnet-dns") + 1] == NEW_DNS and args.count("--vnet-dns") == 1
    assert table(doc)["title"] == f"Node resolvers: 1 of 4 nodes differ from the VNet's DNS servers ({NEW_DNS})"
    assert rc == 0 and doc["verdict"] == "degraded"
    if dns036_ships():
        rows = {r["node"]: r for r in doc["probes"][0]["facts"]["matrix"]["rows"]}
        assert [n for n, r in rows.items() if "DNS036" in r["cells"]] == [STALE]


def test_a_vnet_dns_given_after_the_double_dash_wins_over_azure(cluster, planes, capsys) -> None:
    planes("healthy", "healthy")
    c = cluster()
    azure = ["--cluster", CLUSTER, "-g", CLUSTER_RG, "--subscription", SUBSCRIPTION]
    rc, _, err = run_json(capsys, c.args("--node", SYSTEM[0], *NODE_VIEW, *azure, "-o", "json", "--", *DNS_ARGS,
                                         "--vnet-dns", NEW_DNS))  # fmt: skip
    assert rc == 0, err
    assert "from Azure" not in err, "ARM is not read when the pod's command names the servers"
    assert c.created()[0]["spec"]["containers"][0]["args"].count("--vnet-dns") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--node", SYSTEM[0], *NODE_VIEW, "--", *DNS_ARGS, "--vnet-dns", "dns.contoso.com"],
         "'dns.contoso.com' is not a DNS server address"),
        (["--node", SYSTEM[0], "--node-resolver-files", "--", *DNS_ARGS], "--node-resolver-files needs --host-network"),
        (["--node", SYSTEM[0], "--cluster", CLUSTER, "--", *DNS_ARGS], "--cluster and --resource-group go together"),
        (["--node", SYSTEM[0], "--cluster", CLUSTER, "-g", CLUSTER_RG, "--", "apiserver"],
         "gives the VNet's DNS servers to `dns`, not to `apiserver`"),
        (["--node", SYSTEM[0], "--vnet-dns", NEW_DNS, "--", *DNS_ARGS], "unrecognized arguments: --vnet-dns"),
    ],
)  # fmt: skip
def test_bad_node_view_flags_exit_2_before_any_pod(cluster, capsys, args, message) -> None:
    c = cluster()
    assert main(c.args(*args)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert c.created() == []


def test_dns_vnet_dns_flag_parses_and_tests_those_servers(start_world, capsys) -> None:
    world = start_world("healthy")
    custom = str(world.endpoints["custom"])
    base = ["dns", world.scenario.fqdn, "--azure-dns", str(world.azure_dns), "--resolv-conf", str(world.resolv_conf)]
    expect = [a for ip in world.scenario.expect for a in ("--expect", ip)]
    rc = main([*base, *expect, "--vnet-dns", custom, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0, doc["findings"]
    chain = next(p for p in doc["probes"] if p["probe"] == "dns_chain")
    assert any(custom in s["server"] and "custom-dns" in s["roles"] for s in chain["facts"]["servers"])
    assert main([*base, "--vnet-dns", "10.1.0.4:notaport"]) == 2
    assert main([*base, "--vnet-dns", "nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope' is not a DNS server address" in err
    with pytest.raises(SystemExit):
        main(["dns", "--help"])
    helped = capsys.readouterr().out
    assert "--vnet-dns IP[:PORT]" in helped and "DNS036" in helped


def resolver_report(nameservers: list[str], upstreams: list[str]) -> dict:
    facts = {"resolver": {"path": "/host/etc/resolv.conf", "nameservers": nameservers, "upstreams": upstreams}}
    return {"probes": [{"probe": "dns_chain", "facts": facts}]}


def test_without_the_vnet_dns_the_table_names_the_node_unlike_the_others() -> None:
    from aksdiag.pod import nodeview

    reports = [(SYSTEM[0], "system", resolver_report(["127.0.0.53:53"], [f"{NEW_DNS}:53"])),
               (USER[0], "user", resolver_report([f"{NEW_DNS}:53"], [])),  # no stub: the same server, asked directly
               (STALE, "user", resolver_report(["127.0.0.53:53"], [f"{OLD_DNS}:53"])),
               (USER[1] + "-x", "", None)]  # fmt: skip
    table = nodeview.resolver_table([], reports)
    assert table is not None and table.title == "Node resolvers: 1 of 3 nodes differ from most nodes"
    assert table.columns[-1] == "vs most"
    assert [r[4] for r in table.rows] == ["same", "same", "differs"]
    assert table.rows[1][2:4] == (NEW_DNS, "-")
    assert nodeview.resolver_table([NEW_DNS], [(SYSTEM[0], "system", None)]) is None, "no dns probe: no table"


def test_the_node_view_flags_go_in_before_the_closing_output_json(capsys) -> None:
    from aksdiag.pod import nodeview

    inner = ("dns", CLUSTER_FQDN, "--output", "json")
    args = nodeview.pod_args(inner, (NEW_DNS, OLD_DNS), True, "Default", sys.stderr)
    assert args == ("dns", CLUSTER_FQDN, "--vnet-dns", NEW_DNS, "--vnet-dns", OLD_DNS,
                    "--resolv-conf", spec.NODE_RESOLV_CONF, "--output", "json")  # fmt: skip
    mine = ("dns", CLUSTER_FQDN, "--resolv-conf", "/etc/mine.conf", "--output", "json")
    assert nodeview.pod_args(mine, (), True, "Default", sys.stderr) == mine
    assert "not compared" in capsys.readouterr().err
    assert nodeview.pod_args(("apiserver", "--output", "json"), (), True, "ClusterFirst", sys.stderr)[1:3] == (
        "--resolv-conf",
        spec.NODE_RESOLV_CONF,
    )
    assert capsys.readouterr().err == "", "apiserver has no VNet DNS to compare"
