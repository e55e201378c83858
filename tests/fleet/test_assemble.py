"""The fleet's assembly judges as `check --cluster` does: for every single-cluster ARM world, the fleet probes'
findings from a context assembled out of Resource Graph rows (the world's bodies as Resource Graph indexes them) and
the GETs the fleet makes (record sets, forwarding rules: `assemble.gets_for`, fetched through the real SDK from the
fake ARM) are the findings of the same probes on the context `check --cluster` reads with GETs from the same fake
ARM. A difference is a bug in the assembly, or one of the deliberate exceptions below, each with its reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Hashable, Iterable
from typing import Any

import pytest

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.facts import AzureContext, AzureContextNeed, AzureDocument, AzureGetNeed, AzureReadError, ClockNeed
from aksdiag.fleet import assemble
from aksdiag.fleet.index import Index
from aksdiag.fleet.queries import CLUSTER_TYPES, DNS_TYPES, LINK_TYPE, NETWORK_TYPES
from aksdiag.lab import arm, armworld
from aksdiag.lab.armbodies import CALLER, subscription_body
from aksdiag.plan import Plan
from aksdiag.runner import Run
from aksdiag.settings import Settings

INDEXED = {*CLUSTER_TYPES, *DNS_TYPES, *NETWORK_TYPES}
FLEET = tuple(probe.for_command("fleet"))

ONLY_CHECK: list[tuple[str, str, str, str]] = [
    # (world, or "*" for any; code; a piece of the detail, "" for any; why check raises it and the fleet does not)
    ("*", "DNS015", "", "the cluster identity's roles are check --cluster's: fleet reads no role assignments"),
    ("*", "AZ001", "Microsoft.Authorization/role", "a refused role read: fleet reads no role assignments"),
    ("*", "LB007", "", "live SNAT use is Azure Monitor metrics: fleet does not read them (aksdiag lb --cluster)"),
    ("*", "LB008", "", "live SNAT use (metrics), as LB007"),
    ("*", "LB009", "", "a NAT gateway's failed connections (metrics), as LB007"),
    ("*", "LB010", "", "a NAT gateway's dropped packets (metrics), as LB007"),
    (
        "denied",
        "AZ001",
        "virtualNetworkLinks/read",
        "the world's 403 is a fault on one GET path of the fake ARM; "
        "Resource Graph answers from its index, so the fleet sees the links check was refused (the engine's "
        "confirming GET of the zone's links meets the 403)",
    ),
]
"""The deliberate differences, each with its reason; the fleet raises nothing check does not. Anything else that
differs fails."""


def excepted(world: str, finding: tuple[str, str, str]) -> bool:
    return any(w in ("*", world) and code == finding[0] and piece in finding[2] for w, code, piece, _ in ONLY_CHECK)


# ---------------------------------------------------------------- the two ways of reading one world


def graph_rows(world: arm.ArmWorld) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The world as Resource Graph indexes it: the rows of the fleet's ROWS queries (the indexed types, `type`
    lower-cased, hidden subscriptions left out) and the LINKS_BY_ZONE rows (one per zone)."""
    hidden = world.hidden()
    rows, links = [], {}
    for rid, body in sorted(world.resources.items()):
        kind = str(body.get("type") or "").lower()
        if rid.split("/")[2] in hidden:
            continue
        if kind in INDEXED:
            rows.append({**body, "type": kind})
        elif kind == LINK_TYPE:
            zone = rid.split("/virtualnetworklinks/")[0]
            links.setdefault(zone, []).append({k: body.get(k) for k in ("id", "name", "type", "location",
                                                                          "properties")})  # fmt: skip
    return rows, [{"zone": z, "links": found} for z, found in sorted(links.items())]


def visible_of(world: arm.ArmWorld) -> assemble.Visible:
    """What GET /subscriptions lists (the hidden ones left out), all of it searched."""
    listed = tuple(world.subscriptions.get(s) or subscription_body(s) for s in _subscriptions(world))
    return assemble.Visible(listed, frozenset(_subscriptions(world)), CALLER)


def _subscriptions(world: arm.ArmWorld) -> list[str]:
    return [str(b.get("subscriptionId")).lower() for b in world.subscription_bodies()
            if str(b.get("subscriptionId")).lower() not in world.hidden()]  # fmt: skip


def not_read(need: AzureGetNeed) -> AzureDocument:
    """Metrics: the fleet does not read them (its lb hop is skipped)."""
    message = "not read by aksdiag fleet: `aksdiag lb --cluster` reads live SNAT"
    return AzureDocument(error=AzureReadError(need.path, 404, "NotRead", message, "", "not-found"))


def fleet_source(contexts: dict[AzureContextNeed, AzureContext]) -> Any:
    async def source(needs: Iterable[Hashable], settings: Settings, deadline: float) -> dict[Hashable, Any]:
        from aksdiag.sources import clock

        out: dict[Hashable, Any] = {}
        for need in needs:
            if isinstance(need, AzureContextNeed):
                out[need] = contexts[need]
            elif isinstance(need, ClockNeed):
                out[need] = clock.read()
            elif isinstance(need, AzureGetNeed):
                out[need] = not_read(need)
            else:
                raise TypeError(f"fleet has no source for {type(need).__name__}")
        return out

    return source


def findings(plan: Plan, source: Any = None) -> set[tuple[str, str, str]]:
    results = asyncio.run(Run(plan, source).stream())
    return {(f.id, f.severity.value, f.detail) for r in results for f in r.findings}


def cluster_of(world: arm.ArmWorld) -> dict[str, Any]:
    (cluster,) = [b for b in world.resources.values()
                  if str(b.get("type")).lower() == "microsoft.containerservice/managedclusters"]  # fmt: skip
    return cluster


def start(fake_arm: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    fake = fake_arm(name)
    monkeypatch.setenv("AKSDIAG_ARM_TOKEN", "lab-token")
    return fake


def both(fake: Any) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]], AzureContext]:
    """(check's findings, the fleet's findings, the assembled context) for the world the fake serves."""
    world = fake.world
    cluster = cluster_of(world)
    need = assemble.need_of(cluster, fake.endpoint)
    settings = dataclasses.replace(settings_mod.from_env(), azure=need)
    checked = findings(Plan("check", "", settings, FLEET))

    from aksdiag.sources.azure import documents

    rows, links = graph_rows(world)
    index = Index.of(rows, links)
    (row,) = [r for r in index.clusters() if r["id"].lower() == cluster["id"].lower()]
    gets = assemble.gets_for(index, [row], fake.endpoint)
    fetched = asyncio.run(documents.fetch(gets, settings, time.monotonic() + 30))
    context = assemble.context_of(row, index, fetched, visible_of(world), fake.endpoint)
    fleet = findings(Plan("fleet", "", settings, FLEET), fleet_source({need: context}))
    return checked, fleet, context


# ---------------------------------------------------------------- THE test


@pytest.mark.parametrize("name", list(armworld.WORLDS))
def test_the_fleet_judges_every_world_as_check_does(name: str, fake_arm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = start(fake_arm, name, monkeypatch)
    checked, fleet, _ = both(fake)
    expected = {f for f in checked if not excepted(name, f)}
    assert fleet == expected, f"{name}: only check {sorted(expected - fleet)}; only fleet {sorted(fleet - expected)}"
    for world, code, piece, _why in ONLY_CHECK:
        if world == name:
            assert any(f[0] == code and piece in f[2] for f in checked), f"{name}: {code} no longer differs: drop it"
