"""aksdiag ipplan end to end: the real Azure SDK against the fake ARM, a healthy world and a full subnet. The
arithmetic and each world are judged from facts in tests/probes/test_ipplan.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aksdiag.cli import main
from aksdiag.lab import arm, armworld


@pytest.mark.parametrize(("world", "code"), [("healthy", set()), ("subnet-full", {"IP004"})])
def test_worlds(world: str, code: set[str], tmp_path: Path, monkeypatch, capsys) -> None:
    w = arm.ArmWorld()
    for b in armworld.build(world):
        w.add(b)
    with arm.FakeArm(w, tmp_path) as fake:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        rc = main(
            ["ipplan", "--subscription", armworld.SUBSCRIPTION, "-g", "rg-aks", "--cluster", "aks-lab", "-o", "json"]
        )
    doc = json.loads(capsys.readouterr().out)
    assert {f["id"] for f in doc["findings"]} == code and rc == (1 if code else 0)
    if code:
        detail = doc["findings"][0]["detail"]
        assert "251 usable" in detail and "341 are needed" in detail and "autoscaler max" in detail


def test_ipplan_needs_the_cluster(capsys) -> None:
    assert main(["ipplan"]) == 2
