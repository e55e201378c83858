"""The cluster DNS worlds (aksdiag.lab.corednsworld) served by the fake Kubernetes API server and read with the two
real clients, the kubernetes Python client and kubectl: every object as a real API server serves it (by name, by
label selector, the EndpointSlice by its service-name label), each broken world different from the healthy one
exactly as its name says, and per-object RBAC (`resourceNames`) answered with kube-apiserver's 403 Status."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from labup import lab

from aksdiag.lab import corednsworld
from aksdiag.lab.corednsworld import KUBE_DNS_IP, NODES, PODS, WORLDS
from aksdiag.lab.kube import FakeKubeApi, KubeWorld
from aksdiag.lab.scenarios import FORWARD_ZONE

NS = "kube-system"
ROOT = Path(__file__).resolve().parents[2]
USER = "system:serviceaccount:aksdiag:aksdiag"


@contextmanager
def serve(world: KubeWorld, tmp_path: Path) -> Iterator[tuple[FakeKubeApi, Any]]:
    """The world on loopback HTTPS and an ApiClient of the official client configured from its kubeconfig."""
    from kubernetes import client, config

    with FakeKubeApi(world, tmp_path / "pki") as api:
        configuration = client.Configuration()
        config.load_kube_config(str(api.kubeconfig(tmp_path / "kubeconfig")), client_configuration=configuration)
        with client.ApiClient(configuration) as api_client:
            yield api, api_client


def loaded(name: str) -> KubeWorld:
    world = KubeWorld()
    world.add_all(corednsworld.kube(name))  # add() stamps resourceVersion and uid into these copies
    return world


def raw(call: Any, *args: str) -> dict[str, Any]:
    """The body as the server sent it, before any model: what a real API server's JSON is compared with."""
    response = call(*args, _preload_content=False)
    body: dict[str, Any] = json.loads(response.data)
    return body


def read(api_client: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """GET one object by name through the client's call for its kind."""
    from kubernetes import client

    v1, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
    name, kind = obj["metadata"]["name"], obj["kind"]
    if kind == "Node":
        return raw(v1.read_node, name)
    call = {"Service": v1.read_namespaced_service, "Pod": v1.read_namespaced_pod,
            "ConfigMap": v1.read_namespaced_config_map,
            "EndpointSlice": discovery.read_namespaced_endpoint_slice}[kind]  # fmt: skip
    return raw(call, name, obj["metadata"]["namespace"])


def without_version(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].pop("resourceVersion", None)
    return out


def served_state(name: str, tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the world, as GET returns it, by (kind, name)."""
    with serve(loaded(name), tmp_path / name) as (_, api_client):
        return {(o["kind"], o["metadata"]["name"]): without_version(read(api_client, o))
                for o in corednsworld.kube(name)}  # fmt: skip


@pytest.mark.parametrize("name", WORLDS)
def test_every_object_is_served_by_name_exactly_as_built(name: str, tmp_path: Path) -> None:
    built = corednsworld.kube(name)
    kinds = sorted(o["kind"] for o in built)
    assert kinds == ["ConfigMap", "ConfigMap", "EndpointSlice", "Node", "Node", "Pod", "Pod", "Service"]
    with serve(loaded(name), tmp_path) as (_, api_client):
        for obj in built:
            body = read(api_client, obj)
            assert int(body["metadata"]["resourceVersion"]) > 0, "the server stamps a version"
            assert body["metadata"]["uid"] and body["metadata"]["creationTimestamp"].endswith("Z")
            assert "+00:00" not in json.dumps(body), "times in RFC 3339 as the API server writes them"
            assert without_version(body) == obj, f"{obj['kind']}/{obj['metadata']['name']} served as built"


@pytest.mark.parametrize("name", WORLDS)
def test_the_dns_layer_is_found_the_way_a_client_looks_for_it(name: str, tmp_path: Path) -> None:
    from kubernetes import client

    with serve(loaded(name), tmp_path) as (_, api_client):
        v1, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
        svc = v1.read_namespaced_service("kube-dns", NS)
        assert svc.spec.cluster_ip == KUBE_DNS_IP and svc.spec.type == "ClusterIP"
        assert [(p.name, p.port, p.protocol) for p in svc.spec.ports] == [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
        selector = ",".join(f"{k}={v}" for k, v in svc.spec.selector.items())
        assert selector == "k8s-app=kube-dns"
        pods = v1.list_namespaced_pod(NS, label_selector=selector).items
        assert [(p.metadata.name, p.status.pod_ip, p.spec.node_name) for p in pods] == [
            (pod_name, ip, NODES[i]) for i, (pod_name, ip) in enumerate(PODS)
        ]
        assert v1.list_namespaced_pod("default", label_selector=selector).items == [], "only in kube-system"
        by_ip = v1.list_pod_for_all_namespaces(field_selector=f"status.podIP={PODS[1][1]}").items
        assert [p.metadata.name for p in by_ip] == [PODS[1][0]]

        label = "kubernetes.io/service-name=kube-dns"
        (endpoint_slice,) = discovery.list_namespaced_endpoint_slice(NS, label_selector=label).items
        everywhere = discovery.list_endpoint_slice_for_all_namespaces(label_selector=label).items
        assert [s.metadata.name for s in everywhere] == [endpoint_slice.metadata.name]
        assert discovery.list_namespaced_endpoint_slice(NS, label_selector="kubernetes.io/service-name=web").items == []
        assert endpoint_slice.address_type == "IPv4" and endpoint_slice.metadata.owner_references[0].name == "kube-dns"
        assert [(e.addresses, e.target_ref.name, e.node_name) for e in endpoint_slice.endpoints] == [
            ([p.status.pod_ip], p.metadata.name, p.spec.node_name) for p in pods
        ], "one endpoint per CoreDNS pod, on the pod's node"
        assert sorted((p.name, p.port, p.protocol) for p in endpoint_slice.ports) == [
            ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")
        ]  # fmt: skip

        maps = v1.list_namespaced_config_map(NS, label_selector="k8s-app=kube-dns").items
        assert [m.metadata.name for m in maps] == ["coredns", "coredns-custom"]
        corefile = v1.read_namespaced_config_map("coredns", NS).data["Corefile"]
        lines = [line.strip() for line in corefile.splitlines()]
        assert lines[0] == ".:53 {" and "forward . /etc/resolv.conf" in lines and "cache 30" in lines
        assert lines.index("import custom/*.override") < lines.index(
            "}", lines.index("template ANY ANY reddog.microsoft.com {")
        )
        assert lines[-1] == "import custom/*.server", "custom server blocks come after the default block"
        assert [n.metadata.name for n in v1.list_node().items] == list(NODES)
        with pytest.raises(client.ApiException) as missing:
            v1.read_namespaced_config_map("coredns-custom", "default")
        assert missing.value.status == 404


CHANGED = {
    "coredns-healthy": set(),
    "coredns-custom-forward": {("ConfigMap", "coredns-custom")},
    "coredns-custom-rewrite": {("ConfigMap", "coredns-custom")},
    "coredns-pod-not-ready": {("Pod", PODS[1][0]), ("EndpointSlice", corednsworld.SLICE)},
    "coredns-crashloop": {("Pod", PODS[1][0]), ("EndpointSlice", corednsworld.SLICE)},
    "coredns-no-endpoints": {("Pod", PODS[0][0]), ("Pod", PODS[1][0]), ("EndpointSlice", corednsworld.SLICE)},
}


def pod_view(pod: dict[str, Any]) -> tuple[bool, int, str]:
    """(Ready condition, restarts, container state) of a served pod."""
    (status,) = pod["status"]["containerStatuses"]
    ready = next(c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready") == "True"
    assert status["ready"] is ready
    state = status["state"].get("waiting", {}).get("reason") or next(iter(status["state"]))
    return ready, status["restartCount"], state


def test_the_worlds_are_the_ones_named() -> None:
    assert set(CHANGED) == set(WORLDS) and all(name.startswith("coredns-") for name in WORLDS)


@pytest.mark.parametrize("name", [n for n in WORLDS if n != "coredns-healthy"])
def test_each_broken_world_differs_from_the_healthy_one_exactly_as_named(name: str, tmp_path: Path) -> None:
    healthy, broken = served_state("coredns-healthy", tmp_path), served_state(name, tmp_path)
    assert set(healthy) == set(broken)
    changed = {key for key in healthy if healthy[key] != broken[key]}
    assert changed == CHANGED[name]
    custom = broken[("ConfigMap", "coredns-custom")].get("data")
    pods = [pod_view(broken[("Pod", pod_name)]) for pod_name, _ in PODS]
    ready = [e["conditions"] for e in broken[("EndpointSlice", corednsworld.SLICE)]["endpoints"]]
    if name == "coredns-custom-forward":
        block = custom[corednsworld.SERVER_KEY].splitlines()
        assert list(custom) == [corednsworld.SERVER_KEY] and block[0] == f"{FORWARD_ZONE}:53 {{"
        assert f"forward . {corednsworld.WRONG_FORWARD}" in [line.strip() for line in block]
    elif name == "coredns-custom-rewrite":
        override = custom[corednsworld.OVERRIDE_KEY]
        assert list(custom) == [corednsworld.OVERRIDE_KEY] and override.startswith("rewrite stop {")
        assert f"name regex (.*)\\.{FORWARD_ZONE.replace('.', chr(92) + '.')} " in override
    elif name == "coredns-pod-not-ready":
        assert pods == [(True, 0, "running"), (False, 0, "running")]
    elif name == "coredns-crashloop":
        assert pods == [(True, 0, "running"), (False, corednsworld.CRASH_RESTARTS, "CrashLoopBackOff")]
        last = broken[("Pod", PODS[1][0])]["status"]["containerStatuses"][0]["lastState"]["terminated"]
        assert last["exitCode"] == 1 and last["reason"] == "Error"
    else:
        assert pods == [(False, 0, "running"), (False, 0, "running")]
    if name.startswith("coredns-custom-"):
        assert healthy[("ConfigMap", "coredns-custom")].get("data") is None, "empty by default"
    else:
        want = [p[0] for p in pods]
        assert ready == [{"ready": r, "serving": r, "terminating": False} for r in want]
        assert [e["addresses"] for e in broken[("EndpointSlice", corednsworld.SLICE)]["endpoints"]] == [
            [ip] for _, ip in PODS
        ], "a pod not ready keeps its endpoint, marked not ready"


@pytest.mark.parametrize("name", WORLDS)
def test_the_served_configmaps_read_as_coredns_reads_them(name: str, tmp_path: Path) -> None:
    """The two ConfigMaps as served, through aksdiag's Corefile reader: which block and line answer the cluster's
    FQDN in each world (the default block and the node's resolver, but for the two coredns-custom worlds)."""
    from kubernetes import client

    from aksdiag.corefile import parse_coredns
    from aksdiag.lab.scenarios import CLUSTER_FQDN

    with serve(loaded(name), tmp_path) as (_, api_client):
        v1 = client.CoreV1Api(api_client)
        corefile = v1.read_namespaced_config_map("coredns", NS).data["Corefile"]
        custom = v1.read_namespaced_config_map("coredns-custom", NS).data or {}
    config = parse_coredns(corefile, custom)
    assert config.unsupported == () and config.ignored_keys == ()
    seen = config.explain(CLUSTER_FQDN)
    assert seen is not None and seen.forward is not None
    if name == "coredns-custom-forward":
        assert seen.zone == f"{FORWARD_ZONE}." and seen.block.origin.key == corednsworld.SERVER_KEY
        assert seen.forward.targets == (corednsworld.WRONG_FORWARD,) and seen.rewrites == ()
        return
    assert seen.zone == "." and seen.forward.targets == ("/etc/resolv.conf",)
    if name == "coredns-custom-rewrite":
        (rule,) = seen.rewrites
        assert rule.origin.key == corednsworld.OVERRIDE_KEY and rule.mode == "stop"
        assert seen.rewritten == CLUSTER_FQDN.replace(".privatelink.", ".") + "."
    else:
        assert seen.rewrites == () and seen.rewritten == CLUSTER_FQDN + "."


def forbidden(resource: str, verb: str, name: str = "", group: str = "") -> dict[str, Any]:
    """kube-apiserver's 403 for a request in kube-system (apierrors.NewForbidden)."""
    qualified = f"{resource}.{group}" if group else resource
    what = f'{qualified} "{name}"' if name else qualified
    message = (f'{what} is forbidden: User "{USER}" cannot {verb} resource "{resource}" in API group "{group}" '
               f'in the namespace "{NS}"')  # fmt: skip
    details = {k: v for k, v in (("name", name), ("group", group), ("kind", resource)) if v}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "Forbidden", "details": details, "code": 403}  # fmt: skip


def refused(call: Any, *args: str) -> dict[str, Any]:
    from kubernetes import client

    with pytest.raises(client.ApiException) as e:
        call(*args)
    assert e.value.status == 403
    body: dict[str, Any] = json.loads(e.value.body)
    return body


def test_one_denied_configmap_is_403_by_name_and_the_other_is_read(tmp_path: Path) -> None:
    from kubernetes import client

    world = loaded("coredns-custom-forward")
    world.denied = {("get", "configmaps/coredns-custom")}
    with serve(world, tmp_path) as (_, api_client):
        v1 = client.CoreV1Api(api_client)
        assert refused(v1.read_namespaced_config_map, "coredns-custom", NS) == forbidden(
            "configmaps", "get", "coredns-custom"
        )
        assert "import custom/*.server" in v1.read_namespaced_config_map("coredns", NS).data["Corefile"]
        assert len(v1.list_namespaced_config_map(NS).items) == 2, "a named denial leaves list alone"


def manifest_role() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """container/rbac.yaml's kube-system Role as the fake's rules: its resources denied, its names allowed."""
    docs = yaml.safe_load_all((ROOT / "container" / "rbac.yaml").read_text())
    (role,) = [d for d in docs if d and d["kind"] == "Role" and d["metadata"]["namespace"] == NS]
    denied = {(verb, "configmaps") for verb in ("get", "list", "watch")}
    allowed = {(verb, f"{resource}/{name}") for rule in role["rules"] for verb in rule["verbs"]
               for resource in rule["resources"] for name in rule["resourceNames"]}  # fmt: skip
    return denied, allowed


def test_the_manifests_resource_names_let_through_exactly_the_two_configmaps(tmp_path: Path) -> None:
    """An `_rbac.yaml` with deny and allow, loaded from a world directory the way `aksdiag lab kube` loads one."""
    from kubernetes import client

    denied, allowed = manifest_role()
    assert allowed == {("get", "configmaps/coredns"), ("get", "configmaps/coredns-custom")}
    directory = tmp_path / "world"
    directory.mkdir()
    other = corednsworld.configmap("kube-root-ca.crt", {"ca.crt": "-----BEGIN CERTIFICATE-----"}, "Reconcile")
    (directory / "dns.yaml").write_text(yaml.safe_dump_all([*corednsworld.kube("coredns-healthy"), other]))
    rules = {"deny": [" ".join(r) for r in sorted(denied)], "allow": [" ".join(r) for r in sorted(allowed)]}
    (directory / "_rbac.yaml").write_text(yaml.safe_dump(rules))
    with serve(KubeWorld.load(directory), tmp_path) as (_, api_client):
        v1 = client.CoreV1Api(api_client)
        assert "Corefile" in v1.read_namespaced_config_map("coredns", NS).data
        assert v1.read_namespaced_config_map("coredns-custom", NS).data is None
        assert refused(v1.read_namespaced_config_map, "kube-root-ca.crt", NS) == forbidden(
            "configmaps", "get", "kube-root-ca.crt"
        )
        assert refused(v1.list_namespaced_config_map, NS) == forbidden("configmaps", "list")
        assert v1.read_namespaced_service("kube-dns", NS).spec.cluster_ip == KUBE_DNS_IP, "other resources served"


def test_group_qualified_and_subresource_denials_read_as_the_real_servers(tmp_path: Path) -> None:
    from kubernetes import client

    world = loaded("coredns-healthy")
    world.denied = {("list", "endpointslices"), ("get", "pods/log")}
    with serve(world, tmp_path) as (_, api_client):
        v1, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
        assert refused(discovery.list_namespaced_endpoint_slice, NS) == forbidden(
            "endpointslices", "list", group="discovery.k8s.io"
        )
        assert discovery.read_namespaced_endpoint_slice(corednsworld.SLICE, NS).endpoints, "get is not list"
        log = refused(v1.read_namespaced_pod_log, PODS[0][0], NS)
        assert (
            log["message"].startswith(f'pods "{PODS[0][0]}" is forbidden') and 'resource "pods/log"' in log["message"]
        )
        assert v1.read_namespaced_pod(PODS[0][0], NS).status.phase == "Running", "the pod itself is still read"


KUBECTL = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def kubectl(api: FakeKubeApi, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = api.kubeconfig(tmp_path / "kubectl-config")
    return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "-n", NS, *args], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


@KUBECTL
def test_kubectl_sees_the_crashloop_and_the_not_ready_endpoint(tmp_path: Path) -> None:
    with serve(loaded("coredns-crashloop"), tmp_path) as (api, _):
        pods = kubectl(api, tmp_path, "get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide")
        assert pods.returncode == 0, pods.stderr
        rows = {line.split()[0]: line.split() for line in pods.stdout.splitlines()[1:]}
        assert rows[PODS[0][0]][1:4] == ["1/1", "Running", "0"] and NODES[0] in rows[PODS[0][0]]
        assert rows[PODS[1][0]][1:4] == ["0/1", "CrashLoopBackOff", str(corednsworld.CRASH_RESTARTS)]
        path = '{range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready} {.nodeName}{"\\n"}{end}'
        slices = kubectl(api, tmp_path, "get", "endpointslices", "-l", "kubernetes.io/service-name=kube-dns",
                         "-o", f"jsonpath={path}")  # fmt: skip
        assert slices.returncode == 0, slices.stderr
        assert slices.stdout.splitlines() == [f"{PODS[0][1]} true {NODES[0]}", f"{PODS[1][1]} false {NODES[1]}"]


@KUBECTL
def test_kubectl_reports_the_named_403(tmp_path: Path) -> None:
    world = loaded("coredns-healthy")
    world.denied = {("get", "configmaps/coredns-custom")}
    with serve(world, tmp_path) as (api, _):
        denied = kubectl(api, tmp_path, "get", "configmap", "coredns-custom")
        assert denied.returncode == 1
        assert denied.stderr.strip() == (
            "Error from server (Forbidden): " + forbidden("configmaps", "get", "coredns-custom")["message"]
        )
        allowed = kubectl(api, tmp_path, "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}")
        assert allowed.returncode == 0 and allowed.stdout.rstrip().endswith("import custom/*.server")


def test_lab_kube_serves_a_coredns_world_by_name() -> None:
    import re
    import sys

    listed = subprocess.run([sys.executable, "-m", "aksdiag", "lab", "list"], capture_output=True, text=True,
                            timeout=60, check=True).stdout  # fmt: skip
    assert all(name in listed for name in WORLDS)
    with lab("kube", "--world", "coredns-crashloop") as served:
        assert "serving 8 objects from coredns-crashloop" in served.text
        kubeconfig = re.search(r"KUBECONFIG=(\S+)", served.text).group(1)  # type: ignore[union-attr]
        assert yaml.safe_load(Path(kubeconfig).read_text())["clusters"][0]["cluster"]["server"].startswith(
            "https://127.0.0.1:"
        )
    assert served.returncode == 0, served.stderr
