"""The fake Kubernetes API server, read by two independent clients: the kubernetes Python client and kubectl."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labup import lab

from aksdiag.lab.kube import FakeKubeApi, KubeWorld


def pod(name: str, ip: str, node: str, ns: str = "default", **labels: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "mcr.microsoft.com/oss/nginx/nginx:1.25"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "10.240.0.4"},
    }  # fmt: skip


@pytest.fixture
def world_dir(tmp_path: Path) -> Path:
    d = tmp_path / "world"
    d.mkdir()
    nodes = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"aks-nodepool1-{i}", "labels": {"agentpool": "nodepool1"}},
         "spec": {"podCIDR": f"10.244.{i}.0/24"},
         "status": {"addresses": [{"type": "InternalIP", "address": f"10.240.0.{4 + i}"}]}}
        for i in range(2)
    ]  # fmt: skip
    pods = [pod(f"web-{i}", f"10.244.0.{10 + i}", "aks-nodepool1-0", app="web") for i in range(5)]
    pods.append(pod("coredns-0", "10.244.1.2", "aks-nodepool1-1", ns="kube-system", k8s_app="kube-dns"))
    (d / "nodes.yaml").write_text(yaml.safe_dump_all(nodes))
    (d / "pods.json").write_text(__import__("json").dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    nnc = {"apiVersion": "acn.azure.com/v1alpha", "kind": "NodeNetworkConfig",
           "metadata": {"name": "aks-nodepool1-0", "namespace": "kube-system"},
           "status": {"networkContainers": [{"primaryIP": "10.240.0.4", "subnetAddressSpace": "10.240.0.0/16",
                                             "ipAssignments": [{"name": "x", "ip": "10.240.0.50"}]}]}}  # fmt: skip
    (d / "nnc.yaml").write_text(yaml.safe_dump(nnc))
    return d


@pytest.fixture
def api(world_dir: Path, tmp_path: Path) -> Iterator[FakeKubeApi]:
    with FakeKubeApi(KubeWorld.load(world_dir), tmp_path / "pki") as server:
        yield server


@pytest.fixture
def core(api: FakeKubeApi, tmp_path: Path) -> Iterator[object]:
    from kubernetes import client, config

    kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
    configuration = client.Configuration()
    config.load_kube_config(str(kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api_client:
        yield api_client


def test_field_selector_across_namespaces(core) -> None:
    from kubernetes import client

    v1 = client.CoreV1Api(core)
    hit = v1.list_pod_for_all_namespaces(field_selector="status.podIP=10.244.1.2")
    assert [(p.metadata.namespace, p.metadata.name, p.spec.node_name) for p in hit.items] == [
        ("kube-system", "coredns-0", "aks-nodepool1-1")
    ]
    assert v1.list_pod_for_all_namespaces(field_selector="status.podIP=10.9.9.9").items == []
    on_node = v1.list_pod_for_all_namespaces(field_selector="spec.nodeName=aks-nodepool1-0,status.phase=Running")
    assert len(on_node.items) == 5


def test_label_selectors_and_paging(core) -> None:
    from kubernetes import client

    v1 = client.CoreV1Api(core)
    names, token = [], None
    while True:
        page = v1.list_namespaced_pod("default", label_selector="app in (web,api)", limit=2, _continue=token)
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"web-{i}" for i in range(5)]
    assert v1.list_pod_for_all_namespaces(label_selector="app!=web").items[0].metadata.name == "coredns-0"
    assert [n.metadata.name for n in client.CoreV1Api(core).list_node(label_selector="agentpool").items] == [
        "aks-nodepool1-0", "aks-nodepool1-1",
    ]  # fmt: skip


def test_custom_resources(core) -> None:
    from kubernetes import client

    nnc = client.CustomObjectsApi(core).get_namespaced_custom_object(
        "acn.azure.com", "v1alpha", "kube-system", "nodenetworkconfigs", "aks-nodepool1-0"
    )
    assert nnc["status"]["networkContainers"][0]["ipAssignments"][0]["ip"] == "10.240.0.50"


def test_pod_create_log_delete(core, api: FakeKubeApi) -> None:
    from kubernetes import client

    v1 = client.CoreV1Api(core)
    made = v1.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                                "metadata": {"generateName": "aksdiag-"},
                                                "spec": {"containers": [{"name": "a", "image": "aksdiag"}]}})  # fmt: skip
    assert made.metadata.name.startswith("aksdiag-") and made.status.phase == "Pending"
    api.world.logs[("default", made.metadata.name)] = '{"schema": "aksdiag.report/v1"}'
    assert v1.read_namespaced_pod_log(made.metadata.name, "default") == '{"schema": "aksdiag.report/v1"}'
    v1.delete_namespaced_pod(made.metadata.name, "default")
    with pytest.raises(client.ApiException) as e:
        v1.read_namespaced_pod(made.metadata.name, "default")
    assert e.value.status == 404


def test_rbac_403_and_401(world_dir: Path, tmp_path: Path) -> None:
    from kubernetes import client, config

    (world_dir / "_rbac.yaml").write_text("deny: [list pods]\n")
    with FakeKubeApi(KubeWorld.load(world_dir), tmp_path / "pki") as server:
        configuration = client.Configuration()
        config.load_kube_config(str(server.kubeconfig(tmp_path / "kc")), client_configuration=configuration)
        v1 = client.CoreV1Api(client.ApiClient(configuration))
        with pytest.raises(client.ApiException) as e:
            v1.list_pod_for_all_namespaces()
        assert e.value.status == 403 and 'cannot list resource \\"pods\\"' in e.value.body
        assert len(v1.list_node().items) == 2, "other resources are still served"
        import ssl
        import urllib.error
        import urllib.request

        context = ssl.create_default_context(cadata=server.pki.ca_pem)
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(server.url + "/api/v1/nodes", context=context, timeout=5)
        assert anonymous.value.code == 401
        anonymous.value.close()
        v1.api_client.close()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_is_a_second_client(api: FakeKubeApi, tmp_path: Path) -> None:
    kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
    out = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "pods", "-A", "-o", "wide"],
                         capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"] and "IP" in lines[0] and "NODE" in lines[0]
    row = next(line for line in lines if "coredns-0" in line).split()
    assert row[0] == "kube-system" and "10.244.1.2" in row and "aks-nodepool1-1" in row
    picked = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "pods", "-A", "--field-selector",
                             "status.podIP=10.244.0.12", "-o", "name"], capture_output=True, text=True, timeout=60,
                            check=True).stdout  # fmt: skip
    assert picked.split() == ["pod/web-2"]


def test_lab_kube_command_serves_a_directory(world_dir: Path) -> None:
    import re

    with lab("kube", "--world", str(world_dir)) as served:
        assert "serving 9 objects" in served.text  # 2 nodes, 6 pods, 1 NodeNetworkConfig
        kubeconfig = re.search(r"KUBECONFIG=(\S+)", served.text).group(1)  # type: ignore[union-attr]
        doc = yaml.safe_load(Path(kubeconfig).read_text())
        assert doc["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert served.returncode == 0, served.stderr
