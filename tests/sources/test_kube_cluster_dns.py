"""The Kubernetes source (aksdiag.sources.kube.fetch) reading the cluster's DNS layer from the fake API server in
the coredns worlds: kube-dns by fieldSelector, its EndpointSlice by label, the CoreDNS pods by label and the two
ConfigMaps by GET, each in kube-system; a missing ConfigMap is a 404 fact and a denied one a 403 fact naming the
rule, while the other reads succeed. The official client reads the same objects. And the pod's service account
gets exactly what container/rbac.yaml grants it: the lab enforces the manifest, a read outside it is 403."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from aksdiag.facts import KubeContextNeed, KubeList, KubeListNeed, ReadFailure
from aksdiag.lab import corednsworld
from aksdiag.lab.corednsworld import KUBE_DNS_IP, NODES, PODS
from aksdiag.lab.kube import BY_KIND, FakeKubeApi, KubeWorld, rbac
from aksdiag.lab.kubelet import NodeBehaviour, SimulatedKubelet
from aksdiag.sources import kube

NS = "kube-system"
USER = "system:serviceaccount:aksdiag:aksdiag"


def loaded(name: str, *extra: dict[str, Any], manifest: list[dict[str, Any]] | None = None) -> KubeWorld:
    world = KubeWorld()
    world.add_all([*corednsworld.kube(name), *extra, *(manifest or [])])
    return world


@contextmanager
def serve(
    world: KubeWorld, tmp_path: Path, account: tuple[str, str] | None = None
) -> Iterator[tuple[FakeKubeApi, KubeContextNeed]]:
    """The world on loopback HTTPS and the context of a kubeconfig for it: the lab's own user, or a service
    account's token (namespace, name)."""
    with FakeKubeApi(world, tmp_path / "pki") as api:
        token = api.service_account_token(*account) if account else None
        path = api.kubeconfig(tmp_path / f"kubeconfig-{'-'.join(account or ('lab',))}", token=token)
        yield api, KubeContextNeed(str(path))


def read(*needs: KubeListNeed) -> list[KubeList]:
    found = asyncio.run(kube.fetch(list(needs), timeout=10.0))
    return [found[n] for n in needs]


def cluster_dns_needs(ctx: KubeContextNeed) -> list[KubeListNeed]:
    """The reads the cluster_dns probe plans (issue 14's plan)."""
    return [
        KubeListNeed(ctx, "services", field_selector="metadata.name=kube-dns", namespace=NS),
        KubeListNeed(ctx, "endpointslices", label_selector="kubernetes.io/service-name=kube-dns", namespace=NS),
        KubeListNeed(ctx, "pods", label_selector="k8s-app=kube-dns", namespace=NS),
        KubeListNeed(ctx, "configmaps", namespace=NS, name="coredns"),
        KubeListNeed(ctx, "configmaps", namespace=NS, name="coredns-custom"),
    ]


def names(found: KubeList) -> list[str]:
    assert found.error is None, found.error
    return [o["metadata"]["name"] for o in found.items]


def forbidden(verb: str, resource: str, name: str = "", namespace: str = NS, group: str = "", user: str = USER) -> str:
    """kube-apiserver's 403 message (apierrors.NewForbidden), written out as the real server words it."""
    qualified = f"{resource}.{group}" if group else resource
    what = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return f'{what} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'


def elsewhere_pod() -> dict[str, Any]:
    """A pod labelled like CoreDNS outside kube-system: a namespaced list must not see it."""
    pod = corednsworld.pod(0)
    pod["metadata"] = {**pod["metadata"], "name": "coredns-lookalike", "namespace": "default", "uid": "lookalike"}
    return pod


# ---------------------------------------------------------------- the reads, in each world


@pytest.mark.parametrize("name", corednsworld.WORLDS)
def test_the_cluster_dns_reads_are_served_in_every_coredns_world(name: str, tmp_path: Path) -> None:
    world = loaded(name, elsewhere_pod())
    with serve(world, tmp_path) as (api, ctx):
        service, slices, pods, corefile, custom = read(*cluster_dns_needs(ctx))
        paths = [p for m, p in api.requests if m == "GET"]
    assert names(service) == ["kube-dns"] and service.items[0]["spec"]["clusterIP"] == KUBE_DNS_IP
    assert names(slices) == [corednsworld.SLICE]
    endpoints = slices.items[0]["endpoints"]
    assert [(e["addresses"], e["nodeName"]) for e in endpoints] == [([ip], NODES[i]) for i, (_, ip) in enumerate(PODS)]
    spec = corednsworld.WORLDS[name][1]
    ready = [i not in spec.not_ready and i not in spec.crashloop for i in range(len(PODS))]
    assert [e["conditions"]["ready"] for e in endpoints] == ready
    assert names(pods) == [p for p, _ in PODS], "the lookalike in default is not kube-system's"
    assert [p["status"]["podIP"] for p in pods.items] == [ip for _, ip in PODS]
    assert names(corefile) == ["coredns"] and corefile.status == 200
    assert corefile.items[0]["data"]["Corefile"] == corednsworld.COREFILE
    assert names(custom) == ["coredns-custom"] and (custom.items[0].get("data") or {}) == spec.custom
    assert sorted(p.split("?")[0] for p in paths) == sorted([
        "/api/v1/namespaces/kube-system/services", "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
        "/api/v1/namespaces/kube-system/pods", "/api/v1/namespaces/kube-system/configmaps/coredns",
        "/api/v1/namespaces/kube-system/configmaps/coredns-custom",
    ])  # fmt: skip
    assert not any("?" in p for p in paths if "/configmaps/" in p), "a GET by name carries no list parameters"


def test_without_a_namespace_the_lists_span_the_cluster(tmp_path: Path) -> None:
    with serve(loaded("coredns-healthy", elsewhere_pod()), tmp_path) as (api, ctx):
        pods, slices, maps, nodes = read(
            KubeListNeed(ctx, "pods", label_selector="k8s-app=kube-dns"),
            KubeListNeed(ctx, "endpointslices", label_selector="kubernetes.io/service-name=kube-dns"),
            KubeListNeed(ctx, "configmaps", label_selector="k8s-app=kube-dns"),
            KubeListNeed(ctx, "nodes", namespace=NS),
        )
        paths = {p.split("?")[0] for _, p in api.requests}
    assert names(pods) == ["coredns-lookalike", *(p for p, _ in PODS)]
    assert names(slices) == [corednsworld.SLICE] and names(maps) == ["coredns", "coredns-custom"]
    assert names(nodes) == list(NODES), "nodes live in no namespace: the namespace is ignored, as kubectl does"
    assert paths == {"/api/v1/pods", "/apis/discovery.k8s.io/v1/endpointslices", "/api/v1/configmaps", "/api/v1/nodes"}


def test_a_namespaced_list_pages_and_stops_a_repeating_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube, "PAGE", 1)
    world = loaded("coredns-healthy")
    with serve(world, tmp_path) as (api, ctx):
        (pods,) = read(KubeListNeed(ctx, "pods", label_selector="k8s-app=kube-dns", namespace=NS))
        assert names(pods) == [p for p, _ in PODS]
        assert sum("/namespaces/kube-system/pods" in p for _, p in api.requests) == 2, "one page per pod"
        world.faults["/namespaces/kube-system/endpointslices"] = {"continue": "repeat"}
        (looping,) = read(KubeListNeed(ctx, "endpointslices", namespace=NS))
    assert looping.kind is ReadFailure.GARBAGE and "continue token repeats" in str(looping.error)


def test_a_missing_coredns_custom_is_a_404_fact_and_the_rest_is_read(tmp_path: Path) -> None:
    world = loaded("coredns-healthy")
    world.remove(BY_KIND["ConfigMap"], (NS, "coredns-custom"))
    with serve(world, tmp_path) as (_, ctx):
        service, slices, pods, corefile, custom = read(*cluster_dns_needs(ctx))
    assert (custom.status, custom.kind, custom.items) == (404, ReadFailure.NOT_FOUND, ())
    assert custom.error == 'configmaps "coredns-custom" not found' and not custom.forbidden
    assert names(corefile) == ["coredns"] and names(service) == ["kube-dns"] and names(pods) == [p for p, _ in PODS]
    assert names(slices) == [corednsworld.SLICE]


def test_a_denied_coredns_custom_is_a_403_fact_naming_the_rule_and_the_rest_is_read(tmp_path: Path) -> None:
    world = loaded("coredns-custom-forward")
    world.denied = {("get", "configmaps/coredns-custom")}
    with serve(world, tmp_path) as (_, ctx):
        service, slices, pods, corefile, custom = read(*cluster_dns_needs(ctx))
    assert (custom.status, custom.kind, custom.items, custom.forbidden) == (403, ReadFailure.FORBIDDEN, (), True)
    assert custom.error == (
        'configmaps "coredns-custom" is forbidden: User "system:serviceaccount:aksdiag:aksdiag" cannot get resource '
        '"configmaps" in API group "" in the namespace "kube-system"'
    )
    assert custom.reason("configmaps kube-system/coredns-custom").startswith(
        'listing configmaps kube-system/coredns-custom: forbidden (403): configmaps "coredns-custom" is forbidden'
    )
    assert names(corefile) == ["coredns"] and names(service) == ["kube-dns"] and names(pods) == [p for p, _ in PODS]
    assert names(slices) == [corednsworld.SLICE]


def test_a_denied_list_leaves_the_get_by_name_and_the_reverse(tmp_path: Path) -> None:
    world = loaded("coredns-healthy")
    world.denied = {("list", "configmaps"), ("get", "endpointslices")}
    with serve(world, tmp_path) as (_, ctx):
        listed, got, slices, slice_by_name = read(
            KubeListNeed(ctx, "configmaps", namespace=NS),
            KubeListNeed(ctx, "configmaps", namespace=NS, name="coredns"),
            KubeListNeed(ctx, "endpointslices", namespace=NS),
            KubeListNeed(ctx, "endpointslices", namespace=NS, name=corednsworld.SLICE),
        )
    assert listed.forbidden and listed.error == forbidden("list", "configmaps")
    assert names(got) == ["coredns"] and names(slices) == [corednsworld.SLICE]
    assert slice_by_name.forbidden
    assert slice_by_name.error == forbidden("get", "endpointslices", corednsworld.SLICE, group="discovery.k8s.io")


def test_a_strange_name_stays_in_its_path(tmp_path: Path) -> None:
    with serve(loaded("coredns-healthy"), tmp_path) as (api, ctx):
        (found,) = read(KubeListNeed(ctx, "configmaps", namespace=NS, name="../../pods"))
        (path,) = [p for _, p in api.requests]
    assert path == "/api/v1/namespaces/kube-system/configmaps/..%2F..%2Fpods" and found.status == 404


def test_a_get_answered_with_garbage_is_a_fact(tmp_path: Path) -> None:
    world = loaded("coredns-healthy")
    world.faults["/configmaps/coredns-custom"] = {"body": "garbage"}
    world.faults["/configmaps/coredns"] = {"status": 500}  # after the longer key, which it is a part of
    with serve(world, tmp_path) as (_, ctx):
        custom, corefile = read(
            KubeListNeed(ctx, "configmaps", namespace=NS, name="coredns-custom"),
            KubeListNeed(ctx, "configmaps", namespace=NS, name="coredns"),
        )
    assert custom.kind is ReadFailure.GARBAGE and "not JSON" in str(custom.error)
    assert corefile.kind is ReadFailure.SERVER and corefile.status == 500


# ---------------------------------------------------------------- the official client and kubectl read the same


def test_the_official_client_reads_the_same_objects(tmp_path: Path) -> None:
    from kubernetes import client, config

    world = loaded("coredns-crashloop")
    with serve(world, tmp_path) as (_, ctx):
        ours = read(*cluster_dns_needs(ctx))
        configuration = client.Configuration()
        config.load_kube_config(str(ctx.kubeconfig), client_configuration=configuration)
        with client.ApiClient(configuration) as api_client:
            v1, discovery = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
            calls = [
                (v1.list_namespaced_service, NS, {"field_selector": "metadata.name=kube-dns"}),
                (
                    discovery.list_namespaced_endpoint_slice,
                    NS,
                    {"label_selector": "kubernetes.io/service-name=kube-dns"},
                ),
                (v1.list_namespaced_pod, NS, {"label_selector": "k8s-app=kube-dns"}),
            ]
            theirs = [json.loads(call(ns, _preload_content=False, **kw).data)["items"] for call, ns, kw in calls]
            for name in ("coredns", "coredns-custom"):
                theirs.append([json.loads(v1.read_namespaced_config_map(name, NS, _preload_content=False).data)])
    assert [list(found.items) for found in ours] == theirs


KUBECTL = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@KUBECTL
def test_kubectl_reads_the_same_and_is_refused_the_same(tmp_path: Path) -> None:
    world = loaded("coredns-healthy", manifest=rbac.manifest())
    with serve(world, tmp_path, account=("aksdiag", "aksdiag")) as (_, ctx):
        ours = read(*cluster_dns_needs(ctx), KubeListNeed(ctx, "configmaps", namespace=NS))

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["kubectl", "--kubeconfig", str(ctx.kubeconfig), "-n", NS, *args],
                                  capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

        got = kubectl("get", "configmap", "coredns", "-o", "json")
        slices = kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=kube-dns", "-o", "json")
        refused = kubectl("get", "configmaps")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == ours[3].items[0]
    assert slices.returncode == 0 and json.loads(slices.stdout)["items"] == list(ours[1].items)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"Error from server (Forbidden): {ours[5].error}"
    assert ours[5].error == forbidden("list", "configmaps")


# ---------------------------------------------------------------- container/rbac.yaml is what the lab enforces


ALLOWED = [
    KubeListNeed(KubeContextNeed(), "pods"),
    KubeListNeed(KubeContextNeed(), "pods", field_selector=f"status.podIP={PODS[0][1]}"),
    KubeListNeed(KubeContextNeed(), "nodes"),
    KubeListNeed(KubeContextNeed(), "nodes", name=NODES[0]),
    KubeListNeed(KubeContextNeed(), "services"),
    KubeListNeed(KubeContextNeed(), "events"),
    KubeListNeed(KubeContextNeed(), "endpointslices"),
    KubeListNeed(KubeContextNeed(), "nodenetworkconfigs"),
    KubeListNeed(KubeContextNeed(), "pods", namespace=NS, name=PODS[1][0]),
]
"""Reads container/rbac.yaml grants the pod's service account besides the cluster DNS ones (aksdiag-reader)."""
DENIED = [
    (KubeListNeed(KubeContextNeed(), "configmaps", namespace=NS), forbidden("list", "configmaps")),
    (KubeListNeed(KubeContextNeed(), "configmaps"), forbidden("list", "configmaps", namespace="")),
    (
        KubeListNeed(KubeContextNeed(), "configmaps", namespace=NS, name="kube-root-ca.crt"),
        forbidden("get", "configmaps", "kube-root-ca.crt"),
    ),
    (
        KubeListNeed(KubeContextNeed(), "configmaps", namespace="default", name="coredns"),
        forbidden("get", "configmaps", "coredns", namespace="default"),
    ),
]
"""Reads outside the grant: no list of ConfigMaps, no other ConfigMap, nothing outside kube-system."""


def in_context(need: KubeListNeed, ctx: KubeContextNeed) -> KubeListNeed:
    return KubeListNeed(ctx, need.resource, need.field_selector, need.label_selector, need.namespace, need.name)


def rbac_world(*drop: str, denied: set[tuple[str, str]] | None = None) -> KubeWorld:
    """coredns-healthy with container/rbac.yaml applied (but the objects named in `drop`) and one more ConfigMap."""
    docs = [
        d for d in rbac.manifest() if d["metadata"]["name"] not in drop or d["kind"] in ("Namespace", "ServiceAccount")
    ]
    world = loaded("coredns-healthy", corednsworld.configmap("kube-root-ca.crt", {"ca.crt": "…"}, "Reconcile"),
                   manifest=docs)  # fmt: skip
    world.denied = denied or set()
    return world


@pytest.mark.parametrize("namespace", ["aksdiag", "aksdiag-host-network"])
def test_the_pods_service_account_gets_exactly_what_the_manifest_grants(namespace: str, tmp_path: Path) -> None:
    with serve(rbac_world(), tmp_path, account=(namespace, "aksdiag")) as (_, ctx):
        dns = read(*cluster_dns_needs(ctx))
        allowed = read(*(in_context(n, ctx) for n in ALLOWED))
        denied = read(*(in_context(n, ctx) for n, _ in DENIED))
    assert [names(found) for found in dns] == [
        ["kube-dns"], [corednsworld.SLICE], [p for p, _ in PODS], ["coredns"], ["coredns-custom"]
    ]  # fmt: skip
    assert all(found.error is None for found in allowed), [f.error for f in allowed if f.error]
    user = f"system:serviceaccount:{namespace}:aksdiag"
    assert [(f.status, f.error) for f in denied] == [(403, why.replace(USER, user)) for _, why in DENIED]


def test_reads_the_manifest_does_not_grant_are_refused_to_the_service_account(tmp_path: Path) -> None:
    """Beyond what the source reads: writes, logs, other kinds, all refused, with the real server's message."""
    import httpx

    with serve(rbac_world(), tmp_path, account=("aksdiag", "aksdiag")) as (api, _):
        token = api.service_account_token("aksdiag", "aksdiag")
        with httpx.Client(base_url=api.url, verify=ssl.create_default_context(cafile=api.pki.ca_path),
                          headers={"Authorization": f"Bearer {token}"}) as http:  # fmt: skip
            asked = {
                ("POST", "/api/v1/namespaces/aksdiag/pods"): forbidden("create", "pods", namespace="aksdiag"),
                ("GET", f"/api/v1/namespaces/{NS}/pods/{PODS[0][0]}/log"): forbidden(
                    "get", "pods/log", PODS[0][0]
                ).replace("pods/log ", "pods ", 1),
                ("DELETE", f"/api/v1/namespaces/{NS}/pods/{PODS[0][0]}"): forbidden("delete", "pods", PODS[0][0]),
                ("GET", f"/apis/apps/v1/namespaces/{NS}/deployments"): forbidden("list", "deployments", group="apps"),
                ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles"): forbidden(
                    "list", "clusterroles", namespace="", group="rbac.authorization.k8s.io"
                ),
                ("GET", f"/api/v1/namespaces/{NS}/serviceaccounts"): forbidden("list", "serviceaccounts"),
            }
            answers = {key: http.request(key[0], key[1], json={"metadata": {"name": "x"}}) for key in asked}
    for key, why in asked.items():
        assert (answers[key].status_code, answers[key].json()["message"]) == (403, why), key


def test_the_manifest_is_the_source_of_truth_and_a_world_may_deny_more(tmp_path: Path) -> None:
    unbound = rbac_world("aksdiag-coredns-reader")
    with serve(unbound, tmp_path / "unbound", account=("aksdiag", "aksdiag")) as (_, ctx):
        *lists, corefile, custom = read(*cluster_dns_needs(ctx))
    assert all(found.error is None for found in lists)
    assert (corefile.error, custom.error) == (
        forbidden("get", "configmaps", "coredns"), forbidden("get", "configmaps", "coredns-custom")
    )  # fmt: skip
    no_reader = rbac_world("aksdiag-reader")
    with serve(no_reader, tmp_path / "no-reader", account=("aksdiag", "aksdiag")) as (_, ctx):
        service, slices, pods, corefile, custom = read(*cluster_dns_needs(ctx))
    assert slices.error == forbidden("list", "endpointslices", group="discovery.k8s.io")
    assert (
        service.forbidden and pods.forbidden and names(corefile) == ["coredns"] and names(custom) == ["coredns-custom"]
    )
    stricter = rbac_world(denied={("get", "configmaps/coredns-custom")})
    with serve(stricter, tmp_path / "stricter", account=("aksdiag", "aksdiag")) as (_, ctx):
        *_, corefile, custom = read(*cluster_dns_needs(ctx))
    assert names(corefile) == ["coredns"] and custom.error == forbidden("get", "configmaps", "coredns-custom")


def test_another_service_account_gets_nothing_and_the_kubeconfig_user_everything(tmp_path: Path) -> None:
    world = rbac_world()
    with serve(world, tmp_path / "default", account=("aksdiag", "default")) as (_, ctx):
        found = read(*cluster_dns_needs(ctx))
    user = "system:serviceaccount:aksdiag:default"
    assert [f.error for f in found] == [
        forbidden("list", "services", user=user), forbidden("list", "endpointslices", group="discovery.k8s.io", user=user),
        forbidden("list", "pods", user=user), forbidden("get", "configmaps", "coredns", user=user),
        forbidden("get", "configmaps", "coredns-custom", user=user),
    ]  # fmt: skip
    with serve(world, tmp_path / "operator") as (_, ctx):
        everything = read(KubeListNeed(ctx, "configmaps", namespace=NS), KubeListNeed(ctx, "configmaps"))
    assert [names(f) for f in everything] == [["coredns", "coredns-custom", "kube-root-ca.crt"]] * 2


# ---------------------------------------------------------------- the kubelet mounts the pod's token


def wait_done(api: FakeKubeApi, key: tuple[str, str], bound: float = 60.0) -> dict[str, Any]:
    end = time.monotonic() + bound
    while time.monotonic() < end:
        pod = api.world.objects[BY_KIND["Pod"]][key]
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and key in api.world.logs:
            return pod
        time.sleep(0.05)
    raise AssertionError(f"pod {key} did not finish in {bound} s")


@pytest.mark.parametrize("mount", [True, False])
def test_a_pod_reads_the_cluster_as_its_service_account(mount: bool, tmp_path: Path) -> None:
    """`aksdiag whois` in a pod of the simulated kubelet: with the mounted token it reads as aksdiag/aksdiag and
    gets what the manifest grants (the CoreDNS pod owning the IP); without one it says what to do."""
    world = rbac_world()
    with FakeKubeApi(world, tmp_path / "pki") as api:
        node = NodeBehaviour(tmp_path / "resolv.conf")
        node.node_resolv_conf.write_text("nameserver 127.0.0.1\n")
        with SimulatedKubelet(api, {NODES[0]: node}, tmp_path / "kubelet"):
            world.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe", "namespace": "aksdiag"},
                       "spec": {"nodeName": NODES[0], "serviceAccountName": "aksdiag",
                                "automountServiceAccountToken": mount,
                                "containers": [{"name": "aksdiag", "image": "aksdiag",
                                                "args": ["whois", PODS[1][1], "--output", "json"]}]}})  # fmt: skip
            pod = wait_done(api, ("aksdiag", "probe"))
            log = api.world.logs[("aksdiag", "probe")]
            readers = {user for user, _, path in api.requests_by if path.startswith("/api/v1/pods?")}
    code = pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]
    if not mount:
        assert code == 3 and "is the service account token mounted" in log, log
        assert readers == set(), "no token, no read"
        return
    assert readers == {USER}, "the pod read as its service account"
    assert code in (0, 1), log
    report = json.loads(log[log.index("{") :])
    assert PODS[1][0] in json.dumps(report), "the CoreDNS pod that owns the IP, read with the pod's token"
