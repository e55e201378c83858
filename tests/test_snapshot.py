"""Snapshots: gather once, judge offline with --from; redaction keeps the verdicts and hides the identifiers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aksdiag import snapshot
from aksdiag.cli import main
from aksdiag.lab import arm, armworld
from aksdiag.lab import world as dns_lab


def ids(doc: dict) -> list[str]:
    return sorted(f["id"] for f in doc["findings"])


def take(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    assert main(["snapshot", *(args[1:] if args[0] == "dns" else args)]) == 0
    return json.loads(capsys.readouterr().out)


def judge_offline(capsys: pytest.CaptureFixture[str], doc: dict, tmp_path: Path) -> tuple[int, dict]:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    rc = main(["dns", "--from", str(path), "--output", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_offline_verdict_equals_the_live_one(start_world, capsys, tmp_path: Path) -> None:
    world = start_world("stale-copy")
    args = [*world.dns_args(), "--timeout", "1"]
    assert main([*args, "--output", "json"]) == 1
    live = json.loads(capsys.readouterr().out)
    doc = take(capsys, args)
    world.close()  # offline: nothing answers any more
    rc, offline = judge_offline(capsys, doc, tmp_path)
    assert rc == 1 and ids(offline) == ids(live) == ["DNS003"]

    def shape(doc: dict) -> list[tuple]:
        return [(h["kind"], h["status"], h["answers"]) for h in doc["probes"][0]["hops"]]

    assert shape(offline) == shape(live)


def test_redaction_is_consistent_and_keeps_the_verdict(start_world, capsys, tmp_path: Path) -> None:
    world = start_world("public-leak")
    doc = take(capsys, [*world.dns_args(), "--timeout", "1", "--redact"])
    text = json.dumps(doc)
    assert "10.224.0.100" not in text and "20.41.65.7" not in text
    import ipaddress

    shown = {ipaddress.ip_address(a) for a in re.findall(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d])", text)}
    assert any(a.is_private and not a.is_loopback and str(a).startswith("10.") for a in shown), "private stays private"
    assert any(a.is_global and str(a).startswith("20.") for a in shown), "public stays public (its first octet too)"
    rc, offline = judge_offline(capsys, doc, tmp_path)
    assert ids(offline) == ["DNS004"] and rc == 1


def test_azure_snapshot_has_no_token_and_masks_the_subscription(capsys, tmp_path: Path, monkeypatch) -> None:
    subscription = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"  # a real-looking id, to see it masked
    w = arm.ArmWorld()
    for body in armworld.build("record-stale"):
        w.add(json.loads(json.dumps(body).replace(armworld.SUBSCRIPTION, subscription)))
    with arm.FakeArm(w, tmp_path / "tls") as fake, dns_lab.start("wrong-endpoint", "python", tmp_path / "dns") as lab:
        monkeypatch.setenv("AKSDIAG_ARM_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
        monkeypatch.setenv("AKSDIAG_ARM_TOKEN", "secret-token-value")
        monkeypatch.setenv("AKSDIAG_ADDRESS_MAP", f"{armworld.DNS_SERVER_IP}={lab.endpoints['custom']}")
        monkeypatch.setenv("AKSDIAG_RESOLV_CONF", str(lab.resolv_conf))
        monkeypatch.setenv("AKSDIAG_AZURE_DNS", str(lab.azure_dns))
        args = ["--subscription", subscription, "-g", "rg-aks", "--cluster", "aks-lab", "--timeout", "1"]
        doc = take(capsys, [*args, "--redact"])
    text = json.dumps(doc)
    assert "secret-token-value" not in text
    assert subscription not in text and not re.search(subscription, text, re.I)
    rc, offline = judge_offline(capsys, doc, tmp_path)
    assert ids(offline) == ["DNS007", "DNS012"] and rc == 1


def test_codec_round_trip_of_every_fact_kind(start_world) -> None:
    from aksdiag import runner
    from aksdiag.plan import Plan

    world = start_world("dead-server")
    facts: dict = {}
    runner.run(Plan.of("dns", world.scenario.fqdn, world.settings(timeout=0.3), ["dns_chain"]), facts=facts)
    doc = snapshot.dump("dns", world.scenario.fqdn, world.settings(timeout=0.3), facts)
    _, _, settings, loaded = snapshot.load(json.loads(json.dumps(doc)))
    assert loaded == facts
    assert settings == world.settings(timeout=0.3)


def test_bad_snapshot_is_a_usage_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something/else"}')
    assert main(["dns", "--from", str(bad)]) == 2
    assert main(["dns", "--from", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.count("aksdiag: error:") == 2
