"""The fleet's assembly judges as `check --cluster` does: for every single-cluster ARM world, the fleet probes'
findings from a context assembled out of Resource Graph rows (the world's bodies as Resource Graph indexes them) and
the GETs the fleet makes (record sets, forwarding rules: `assemble.gets_for`, fetched through the real SDK from the
fake ARM) are the findings of the same probes on the context `check --cluster` reads with GETs from the same fake
ARM. A difference is a bug in the assembly, or one of the deliberate exceptions below, each with its reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Hashable, Iterable
from typing import Any

import pytest

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.azfacts import digest
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


def excepted(world: str, finding: tuple[str, str, str, str]) -> bool:
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


Seen = set[tuple[str, str, str, str]]
SHOWN = ("status", "hop", "fact", "typed")
"""What a probe shows beside its findings: compared too, except for a probe whose finding is excepted."""
UNCOMPARED = {"arm_requests", "snat_live", "metrics"}
"""Facts and hops that differ by design: check's GETs per cluster (the fleet's rows cost none); the live SNAT use
(Azure Monitor metrics: the fleet does not read them, its lb probe's metrics hop is skipped)."""


def findings(plan: Plan, source: Any = None) -> Seen:
    """Every finding of the probes (code, severity, detail, probe); each probe's status and reason as ("status", "",
    "status: reason", probe) — a probe that could not look (`unread`) differs where no finding does — and each hop
    it drew and each fact it kept ("hop"/"fact", …): a resource left out of the context shows there even where the
    probe finds nothing wrong without it."""
    run = Run(plan, source)
    results = asyncio.run(run.stream())
    found = {(f.id, f.severity.value, f.detail, f.probe) for r in results for f in r.findings}
    found |= {t for need, ctx in run.facts.items() if isinstance(need, AzureContextNeed) for t in typed(ctx)}
    found |= {("status", "", f"{r.status.value}: {r.reason or ''}", r.probe) for r in results}
    found |= {("hop", f"{h.index} {h.kind} {h.name}", f"{h.status.value}: {h.detail}", r.probe)
              for r in results for h in r.hops if h.kind not in UNCOMPARED}  # fmt: skip
    return found | {("fact", k, _shown(v), r.probe)
                    for r in results for k, v in (r.facts or {}).items() if k not in UNCOMPARED}  # fmt: skip


NOT_READ_BY_FLEET = ("requests", "role_assignments", "role_definitions", "identities")


def typed(context: AzureContext) -> Seen:
    """The context as the probes see it (azfacts.digest), field by field ("typed", field, value, "azure"): what
    the fleet does not read left out, and the refused role reads among the errors."""
    facts = dataclasses.asdict(digest(context))
    facts["errors"] = [e for e in facts["errors"] if not str(e["action"]).startswith("Microsoft.Authorization/role")]
    facts["firewalls"] = sorted(facts["firewalls"], key=lambda f: json.dumps(f, sort_keys=True, default=str))
    return {("typed", k, _shown(v), "azure") for k, v in facts.items() if k not in NOT_READ_BY_FLEET}


def _shown(value: Any) -> str:
    """A fact as compared: a list as the set of its items (check's failed reads come in the order they failed)."""
    if isinstance(value, list):
        return json.dumps(sorted(_shown(v) for v in value))
    return json.dumps(value, sort_keys=True, default=str)


def cluster_of(world: arm.ArmWorld) -> dict[str, Any]:
    (cluster,) = [b for b in world.resources.values()
                  if str(b.get("type")).lower() == "microsoft.containerservice/managedclusters"]  # fmt: skip
    return cluster


def start(fake_arm: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    fake = fake_arm(name)
    monkeypatch.setenv("AKSDIAG_ARM_TOKEN", "lab-token")
    return fake


def both(fake: Any) -> tuple[Seen, Seen, AzureContext]:
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
    excused = {f[3] for f in checked if excepted(name, f)}  # a probe whose finding is excepted: its status too
    if any(w == name for w, *_ in ONLY_CHECK):
        excused.add("azure")  # the world's exception is in what was read
    expected = {f for f in checked if not excepted(name, f) and not (f[0] in SHOWN and f[3] in excused)}
    fleet = {f for f in fleet if not (f[0] in SHOWN and f[3] in excused)}
    assert fleet == expected, f"{name}: only check {sorted(expected - fleet)}; only fleet {sorted(fleet - expected)}"
    for world, code, piece, _why in ONLY_CHECK:
        if world == name:
            assert any(f[0] == code and piece in f[2] for f in checked), f"{name}: {code} no longer differs: drop it"


# ---------------------------------------------------------------- what the equivalence does not show by itself


def test_a_hidden_hub_is_the_403_check_meets_for_the_zone(fake_arm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """lz-denied-sub hides the connectivity subscription (Resource Graph leaves it out silently): the zone there is
    ARM's 403 AuthorizationFailed, as check's GET meets it, and no zone the fleet could have judged unlinked."""
    from aksdiag.lab.armworld import landing

    fake = start(fake_arm, "lz-denied-sub", monkeypatch)
    checked, fleet, context = both(fake)
    assert {f for f in fleet if f[0] not in SHOWN} == {f for f in checked if not excepted("lz-denied-sub", f)
                                                        and f[0] not in SHOWN}  # fmt: skip
    assert context.zone is not None and context.zone["zone"] is None and context.zone["links"] is None
    refused = [e for e in context.errors if e.scope.lower() == landing.ZONE.lower()]
    assert refused and {(e.status, e.code, e.kind.value) for e in refused} == {
        (403, "AuthorizationFailed", "forbidden")
    }
    assert "DNS011" not in {f[0] for f in fleet} and "AZ001" in {f[0] for f in fleet}
    assert landing.CONNECTIVITY not in context.searched_subscriptions


def test_a_link_resource_graph_lags_on_is_cleared_by_the_gets_the_finding_rests_on(
    fake_arm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The healthy world with the hub's link not indexed yet: the rows alone say DNS011; the GETs `rests_on` names
    (the zone's link list among them, every one answered 200 by ARM) overlaid on the index say what check says."""
    from aksdiag.sources.azure import documents

    fake = start(fake_arm, "healthy", monkeypatch)
    world = fake.world
    cluster = cluster_of(world)
    need = assemble.need_of(cluster, fake.endpoint)
    settings = dataclasses.replace(settings_mod.from_env(), azure=need)
    checked = findings(Plan("check", "", settings, FLEET))
    rows, links = graph_rows(world)
    lagged = [{**z, "links": [x for x in z["links"] if not x["name"].startswith("link-hub")]} for z in links]
    index = Index.of(rows, lagged)
    deadline = time.monotonic() + 30

    def judged(index: Index) -> tuple[Seen, AzureContext]:
        fetched = asyncio.run(documents.fetch(assemble.gets_for(index, index.clusters(), fake.endpoint), settings,
                                              deadline))  # fmt: skip
        context = assemble.context_of(index.clusters()[0], index, fetched, visible_of(world), fake.endpoint)
        return findings(Plan("fleet", "", settings, FLEET), fleet_source({need: context})), context

    before, context = judged(index)
    assert "DNS011" in {f[0] for f in before} and "DNS011" not in {f[0] for f in checked}
    gets = assemble.rests_on(context)
    zone_links = f"{context.zone['id']}/virtualNetworkLinks".lower() if context.zone else ""
    assert zone_links in {g.path.lower() for g in gets if g.paged}
    answered = asyncio.run(documents.fetch(gets, settings, deadline))
    assert [g.path for g, doc in answered.items() if doc.error is not None] == []
    fresh = {g.path: doc.body for g, doc in answered.items() if not g.paged}
    lists = {g.path: list(doc.items or ()) for g, doc in answered.items() if g.paged}
    after, _ = judged(index.overlaid(fresh, lists))
    assert after == checked


def test_the_gets_are_shared_by_the_clusters_that_share_a_zone() -> None:
    """Two clusters on one BYO zone: one GET of its record sets; the forwarding rules of each linked ruleset once;
    an unlinked ruleset's are not read."""
    from aksdiag.lab.armworld import landing

    world = arm.ArmWorld()
    for body in armworld.build("lz-resolver"):
        world.add(body)
    cluster = cluster_of(world)
    twin = {**cluster, "id": cluster["id"][: -len(cluster["name"])] + "aks-twin", "name": "aks-twin"}
    rows, links = graph_rows(world)
    unlinked = {"id": landing.RULESET + "-unlinked", "name": "rs-hub-unlinked",
                "type": "microsoft.network/dnsforwardingrulesets", "properties": {}}  # fmt: skip
    index = Index.of([*rows, {**twin, "type": twin["type"].lower()}, unlinked], links)
    gets = assemble.gets_for(index, index.clusters(), "https://arm.example")
    zone_gets = [g for g in gets if g.path.lower() == f"{landing.ZONE}/A".lower()]
    assert len(zone_gets) == 1 and zone_gets[0].paged and zone_gets[0].api_version == "2024-06-01"
    rules = [g.path for g in gets if g.path.endswith("/forwardingRules")]
    assert rules == [f"{landing.RULESET}/forwardingRules"]
    assert len(gets) == len({(g.path.lower(), g.paged) for g in gets})


def test_need_of_is_the_need_check_plans() -> None:
    cluster = cluster_of(_world("healthy"))
    need = assemble.need_of(cluster, "https://arm.example")
    assert (need.subscription, need.resource_group, need.cluster) == (
        armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER,
    )  # fmt: skip
    assert need.load_balancers and need.endpoint == "https://arm.example"
    assert need.cluster_id.lower() == cluster["id"].lower()


def test_a_resource_a_searched_subscription_lacks_is_the_404_check_meets() -> None:
    """The spoke VNet missing from the rows (deleted, or not indexed yet): a 404 ResourceNotFound naming it, in
    ARM's words and with the subscription's name, as check's GET says."""
    world = _world("healthy")
    rows, links = graph_rows(world)
    index = Index.of([r for r in rows if r["id"].lower() != armworld.AKS_VNET.lower()], links)
    context = assemble.context_of(index.clusters()[0], index, {}, visible_of(world), "https://arm.example")
    (gone,) = [e for e in context.errors if e.scope.lower() == armworld.AKS_VNET.lower()]
    assert (gone.status, gone.code, gone.action) == (404, "ResourceNotFound", "Microsoft.Network/virtualNetworks/read")
    assert "was not found" in gone.message and f"(subscription {armworld.SUBSCRIPTION}" in gone.message
    assert armworld.AKS_VNET.lower() in {g.path.lower() for g in assemble.rests_on(context)}


def _world(name: str) -> arm.ArmWorld:
    world = arm.ArmWorld()
    for body in armworld.build(name):
        world.add(body)
    world.faults = armworld.faults(name)
    return world
