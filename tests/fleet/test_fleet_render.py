"""The fleet renderers on a FleetReport of real per-cluster findings (tests/fleet/fleetclusters): text names the
cause groups and their first clusters, lists only the clusters that are not healthy, says the fleet's own findings,
the notes, queries and requests; plain at 100 columns when piped; markdown says the same for a ticket; JSON round
trips through FleetReport.from_dict."""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from aksdiag import codes
from aksdiag.fleet import grouping
from aksdiag.fleet.model import FleetReport, QueryStat
from aksdiag.render import fleet as render_fleet
from tests.fleet.fleetclusters import APP_DEV, APP_PROD, CONN, NAMES, cluster

HIDDEN = "d0000000-0000-4000-8000-00000000000d"


def report(clusters: list, **kw: object) -> FleetReport:
    az001 = codes.AZ001.at(
        "fleet", status=403, code="AuthorizationFailed", scope=f"/subscriptions/{HIDDEN}",
        message="Resource Graph leaves out subscriptions the identity cannot read; aks-01 depends on it",
        action="Microsoft.Network/privateDnsZones/read",
    )  # fmt: skip
    base: dict = dict(
        scope="every subscription the identity can read",
        clusters=tuple(clusters),
        groups=tuple(grouping.groups(clusters, NAMES)),
        findings=(az001,),
        queries=(
            QueryStat("clusters", "resources | …", 1, 1, len(clusters), 41.0),
            QueryStat("links", "resources | …", 1, 2, 1200, 80.0),
        ),
        requests={"subscriptions": 1, "graph": 5, "get": 12, "confirm": 4},
        elapsed_ms=2345.0,
        version="9.9",
        subscriptions=(APP_PROD, APP_DEV, CONN[""]),
        notes=(
            "Resource Graph does not index record sets: 12 zones' A records were read by GET",
            "role assignments are not judged in fleet (DNS015): run check --cluster",
        ),
        names=NAMES,
    )
    base.update(kw)
    return FleetReport(**base)  # type: ignore[arg-type]


def fleet() -> list:
    """Nine broken clusters (their errors confirmed by GET, as the engine marks them) and six healthy."""
    broken = [cluster("hub-not-linked", i, APP_PROD if i % 2 else APP_DEV) for i in range(1, 8)]
    broken += [cluster("record-stale", 8), cluster("state-stopped", 9)]
    return [replace(c, confirmed=True) for c in broken] + [cluster("healthy", i) for i in range(10, 16)]


def rendered(r: FleetReport, output: str = "text") -> str:
    out = io.StringIO()
    render_fleet.render(r, output, out)
    return out.getvalue()


def test_text_names_the_groups_the_broken_clusters_and_counts_the_healthy() -> None:
    text = rendered(report(fleet()))
    assert "\x1b[" not in text, "piped: no colour"
    lines = text.splitlines()
    assert lines[0] == "aksdiag fleet every subscription the identity can read"
    assert lines[1].startswith("verdict BROKEN · 15 clusters: 9 broken, 6 healthy · 3 subscriptions searched · 2.35 s")
    assert "\n✘ DNS011 error on 7 of 15 clusters: Private DNS zone is not linked to the VNet that" in text
    assert "Clusters: aks-01, aks-02, aks-03, aks-04, aks-05 +2 more" in text
    assert "shared VNet vnet-hub in subscription conn-prod-weu" in text
    assert "DNS012 error on 1 of 15 clusters" in text and "CL001 error on 1 of 15 clusters" in text
    assert "Clusters not healthy (9 of 15; 6 healthy not listed)" in text
    table = [line.split() for line in lines if re.match(r"\s+aks-\d\d\s", line)]
    assert [row[0] for row in table] == [f"aks-{i:02d}" for i in range(1, 10)], "the broken listed, by name"
    assert table[0] == ["aks-01", "app-prod", "rg-aks-01", "broken", "DNS011"]
    assert table[1] == ["aks-02", "app-dev", "rg-aks-02", "broken", "DNS011"]
    assert not any(f"aks-{i}" in text for i in range(10, 16)), "healthy clusters are counted, not listed"
    assert "Fleet findings (1)" in text and f"AZ001 warning {codes.AZ001.title}" in text and HIDDEN in text
    assert "What Resource Graph could not tell" in text and "  - Resource Graph does not index record sets" in text
    assert "query clusters: 1 batch(es), 1 page(s), 15 rows, 41 ms" in text
    assert "requests: 1 subscriptions, 5 graph, 12 get, 4 confirm (22 in all, 1.5 per cluster)" in text


def test_text_fits_100_columns_but_for_an_id_that_cannot_break() -> None:
    for line in rendered(report(fleet())).splitlines():
        assert len(line) <= 100 or re.search(r"/subscriptions/\S{60,}", line), line


def test_a_terminal_gets_colour() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    render_fleet.render(report(fleet()), "text", out)
    assert "\x1b[" in out.getvalue()


def test_a_healthy_fleet_says_so_and_lists_no_cluster() -> None:
    healthy = [cluster("healthy", i) for i in range(1, 4)]
    text = rendered(report(healthy, findings=(), groups=()))
    assert "verdict OK · 3 clusters: 3 healthy" in text
    assert "No fault found on 3 clusters." in text
    assert "Clusters not healthy" not in text and "Fleet findings" not in text and "aks-01" not in text
    assert "No fault found on 3 clusters." in rendered(report(healthy, findings=(), groups=()), "markdown")


def test_an_ok_fleet_where_a_probe_could_not_look_is_incomplete() -> None:
    clusters = [cluster("healthy", 1), cluster("healthy", 2, error="private_dns")]
    text = rendered(report(clusters, findings=(), groups=()))
    assert "verdict INCOMPLETE · 2 clusters: 1 incomplete, 1 healthy" in text
    assert "aks-02" in text and "(could not look: private_dns)" in text and "aks-01" not in text


def test_lagged_codes_are_said_not_counted_as_findings() -> None:
    clusters = [replace(cluster("healthy", 1), lagged=("DNS011",)), cluster("healthy", 2)]
    r = report(clusters, findings=(), groups=())
    text = rendered(r)
    assert "verdict OK" in text and "Resource Graph lagged ARM (1)" in text and "aks-01: DNS011" in text
    assert "Clusters not healthy" not in text
    assert "- aks-01: DNS011" in rendered(r, "markdown")


def test_the_table_is_cut_at_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_fleet, "ROWS", 3)
    text = rendered(report(fleet()))
    assert "aks-03" in text.split("Clusters not healthy")[1] and "aks-04  " not in text
    assert "+6 more (aksdiag fleet -o json lists every cluster)" in text


def test_markdown_says_the_same_for_a_ticket() -> None:
    md = rendered(report(fleet()), "markdown")
    assert md.startswith("## aksdiag fleet: **BROKEN**\n")
    assert "#### DNS011 error on 7 of 15 clusters: Private DNS zone is not linked" in md
    assert "Clusters: aks-01, aks-02, aks-03, aks-04, aks-05, aks-06, aks-07\n" in md
    assert "### Clusters not healthy (9 of 15; 6 healthy not listed)" in md
    assert "| aks-01 | app-prod | rg-aks-01 | broken | DNS011 |" in md
    assert "aks-10" not in md
    assert "#### AZ001 warning:" in md and "### What Resource Graph could not tell" in md
    assert "| clusters | 1 | 1 | 15 | 41 |  |" in md
    assert md.rstrip().endswith("Requests: 1 subscriptions, 5 graph, 12 get, 4 confirm (22 in all, 1.5 per cluster)")
    piped = rendered(report(fleet(), notes=("a | b",)), "markdown")
    assert "- a \\| b" in piped, "a pipe in a cell or line is escaped"


def test_json_round_trips() -> None:
    r = report(fleet())
    doc = json.loads(rendered(r, "json"))
    assert doc["schema"] == "aksdiag.fleet/v1" and doc["verdict"] == "broken"
    assert doc["subscription_names"][APP_PROD] == "app-prod"
    assert [g["code"] for g in doc["groups"]][:1] == ["DNS011"] and doc["groups"][0]["count"] == 7
    back = FleetReport.from_dict(doc)
    assert back.to_dict() == r.to_dict()
    assert rendered(back) == rendered(r), "the text of a saved report is the text of the run"


def test_an_error_no_get_confirmed_is_marked_in_the_table() -> None:
    """The confirming GET failed (not 404): the error stands on Resource Graph's rows alone, and the table says so."""
    clusters = [cluster("record-stale", 1), replace(cluster("record-stale", 2), confirmed=True)]
    text = rendered(report(clusters, findings=()))
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  aks-")}
    assert rows["aks-01"].rstrip().endswith("DNS012 (unconfirmed)")
    assert rows["aks-02"].rstrip().endswith("DNS012")
    lagged = replace(cluster("record-stale", 3), confirmed=True, lagged=("DNS011",))
    md = rendered(report([lagged], findings=()), "markdown")
    assert "| aks-03 | app-prod | rg-aks-03 | broken | DNS012 (lagged: DNS011) |" in md


GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden_report() -> FleetReport:
    """A small fleet with one of each thing a reader meets: a shared cause, own causes, a cluster that could not
    look, a lagged one, an unconfirmed error, healthy clusters, a fleet finding, notes."""
    clusters = [
        replace(cluster("hub-not-linked", i, APP_PROD if i % 2 else APP_DEV), confirmed=True) for i in (1, 2, 3)
    ]
    clusters += [cluster("record-stale", 4), replace(cluster("state-stopped", 5), confirmed=True)]
    clusters += [cluster("healthy", 6, error="ipplan"), replace(cluster("healthy", 7), lagged=("DNS011",))]
    clusters += [cluster("healthy", i) for i in (8, 9)]
    return report(clusters)


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("markdown", "md")])
def test_golden(fmt: str, suffix: str) -> None:
    """The whole page, read in a diff (AKSDIAG_UPDATE_GOLDEN=1 rewrites it after a deliberate change)."""
    got = rendered(golden_report(), fmt)
    path = GOLDEN / f"fleet.{suffix}"
    if os.environ.get("AKSDIAG_UPDATE_GOLDEN") == "1":
        path.write_text(got)
    assert got == path.read_text()


def test_json_top_level_is_the_contract() -> None:
    doc = json.loads(rendered(golden_report(), "json"))
    assert set(doc) == {"schema", "tool", "command", "scope", "verdict", "elapsed_ms", "subscriptions", "requests",
                        "queries", "findings", "groups", "clusters", "notes", "subscription_names"}  # fmt: skip
    assert set(doc["groups"][0]) == {"code", "severity", "title", "cause", "count", "clusters", "shared",
                                     "subscriptions", "remediation"}  # fmt: skip
    assert doc["clusters"][0]["report"]["schema"] == "aksdiag.report/v1", "each cluster's full report, as check's"
