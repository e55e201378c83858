"""What a fleet run could not read or tell, said in the report: AZ001 for a subscription it could not read (given
but not listed; named by a cluster's resources but not listed), for a Resource Graph query that failed and for a
subscription list that failed; and the notes on what Resource Graph does not index or did not say. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from aksdiag import codes
from aksdiag.facts import AzureContext, AzureDocument, AzureGetNeed, AzureReadError
from aksdiag.fleet.model import FleetCluster
from aksdiag.model import Finding

SILENT = "Resource Graph leaves subscriptions the identity cannot read out silently"


def az001(e: AzureReadError, doing: str) -> Finding:
    """The fleet's own AZ001 for a read that failed (`doing`: what the run was doing)."""
    return codes.AZ001.at("fleet", status=e.status, code=e.code, scope=e.scope, message=f"{e.message} ({doing})",
                          action=e.action or "read access", evidence=e.to_dict())  # fmt: skip


def unlisted(sub: str, error: AzureReadError | None) -> Finding:
    """A --subscription the identity's list left out: what ARM said when it was read on its own (None: it read)."""
    if error is None:
        error = AzureReadError(f"/subscriptions/{sub}", 403, "NotListed",
                               "GET /subscriptions does not list it (disabled, or not readable)",
                               "Microsoft.Resources/subscriptions/read", "forbidden")  # fmt: skip
    message = f"{error.message}; {SILENT}: its clusters are not judged"
    return az001(dataclasses.replace(error, message=message), "given with --subscription")


def hidden(contexts: Mapping[str, AzureContext], searched: frozenset[str], names: Mapping[str, str]) -> list[Finding]:
    """AZ001 per subscription the clusters' resources name (a hub's zone, a peered VNet, a ruleset) that could not
    be read (the assembly's 403 for it), naming the clusters that depend on it."""
    by_sub: dict[str, tuple[AzureReadError, list[str]]] = {}
    for cid, context in contexts.items():
        for e in context.errors:
            sub = subscription_of(e.scope)
            if e.status == 403 and sub and sub not in searched:
                _first, dependents = by_sub.setdefault(sub, (e, []))
                if names.get(cid, cid) not in dependents:
                    dependents.append(names.get(cid, cid))
    out = []
    for sub, (e, dependents) in sorted(by_sub.items()):
        shown = ", ".join(dependents[:5]) + (f" and {len(dependents) - 5} more" if len(dependents) > 5 else "")
        verb = "depends" if len(dependents) == 1 else "depend"
        message = f"{e.message}; {count(len(dependents), 'cluster')} {verb} on it ({shown}); {SILENT}"
        found = dataclasses.replace(e, scope=f"/subscriptions/{sub}", message=message)
        out.append(az001(found, "a cluster's resources name it"))
    return out


def notes(
    gets: Iterable[AzureGetNeed], fetched: Mapping[AzureGetNeed, AzureDocument], clusters: Iterable[FleetCluster],
    truncated: Iterable[str], failed: Mapping[str, str], groups: list[str], unconfirmed: tuple[int, int] = (0, 0),
) -> list[str]:  # fmt: skip
    """`unconfirmed`: (confirming GETs that failed, clusters whose errors they left unconfirmed)."""
    gets = list(gets)
    zones = sum(1 for n in gets if n.path.lower().endswith("/a"))
    rules = sum(1 for n in gets if n.path.lower().endswith("/forwardingrules"))
    out = [
        f"Resource Graph does not index record sets or forwarding rules: the A records of {count(zones, 'zone')} "
        f"and the rules of {count(rules, 'ruleset')} were read by GET "
        f"({count(sum(d.requests for d in fetched.values()), 'request')})",
        "role assignments (DNS015) and live SNAT metrics are not judged in fleet: "
        "`aksdiag check --cluster NAME -g RG --subscription S` reads them for one cluster",
    ]
    lagged = [c for c in clusters if c.lagged]
    if lagged:
        gone = sorted({code for c in lagged for code in c.lagged})
        out.append(f"Resource Graph lagged ARM for {count(len(lagged), 'cluster')}: {', '.join(gone)} went away "
                   "when what they rest on was read by GET (dropped from their reports)")  # fmt: skip
    failed_gets, clusters_left = unconfirmed
    if clusters_left:
        out.append(f"{count(failed_gets, 'confirming GET')} failed (not 404): the errors of "
                   f"{count(clusters_left, 'cluster')} stand as Resource Graph showed them, unconfirmed")  # fmt: skip
    out += [f"Resource Graph truncated the {q!r} query: some rows are missing" for q in truncated]
    out += [f"the {q!r} query failed ({why}): the probes that need it could not look" for q, why in failed.items()]
    if groups:
        out.append(f"clusters searched under management group {', '.join(groups)}; what they depend on in every "
                   "subscription the identity can list")  # fmt: skip
    return out


def subscription_of(resource_id: str) -> str:
    parts = str(resource_id or "").split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"
