"""`aksdiag fleet`: its flags become a FleetPlan (the scope: subscriptions, management groups or all; the checked
--filter; the ARM endpoint and the run's limits), once. Bad flags are UsageErrors (exit 2)."""

from __future__ import annotations

import argparse
import re

from aksdiag import settings as settings_mod
from aksdiag.commands import context
from aksdiag.errors import UsageError
from aksdiag.fleet.engine import FleetPlan
from aksdiag.fleet.model import FleetScope
from aksdiag.fleet.queries import parse_filter

DEADLINE_S = 60.0
"""The fleet's one deadline by default: a tenant's queries, GETs and confirmations, with their retries."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_GROUP = re.compile(r"[A-Za-z0-9_.()-]{1,90}\Z")
"""A management group id: letters, digits, `-`, `_`, `.`, `(`, `)`, at most 90 (ARM's naming rules)."""


def fleet_plan(args: argparse.Namespace) -> FleetPlan:
    subscriptions = [subscription_id(s) for s in context.flag(args, "subscription") or []]
    groups = [management_group(g) for g in context.flag(args, "management_group") or []]
    if context.flag(args, "all_subscriptions") and (subscriptions or groups):
        given = "--subscription" if subscriptions else "--management-group"
        raise UsageError(f"--all-subscriptions and {given} contradict each other", "give one scope")
    if subscriptions and groups:
        raise UsageError("--subscription and --management-group contradict each other", "give one scope")
    scope = FleetScope(
        subscriptions=tuple(dict.fromkeys(subscriptions)),
        management_groups=tuple(dict.fromkeys(groups)),
        filter=parse_filter(context.flag(args, "filter") or ""),
    )
    from aksdiag.sources.azure import endpoint_for

    endpoint = context.arm_endpoint(endpoint_for(context.flag(args, "cloud")))
    limits = context.limits(args)
    if context.flag(args, "deadline") is None:
        limits["deadline"] = DEADLINE_S
    settings = settings_mod.from_env(**limits)
    return FleetPlan(scope=scope, settings=settings, endpoint=endpoint)


def subscription_id(text: str) -> str:
    """A subscription id as ARM spells it (a GUID), lower-cased; anything else is a usage error."""
    value = (text or "").strip()
    if value.lower().startswith("/subscriptions/"):
        value = value.split("/")[2]
    if not _GUID.match(value):
        raise UsageError(
            f"--subscription {text!r} is not a subscription id",
            "give its GUID (`az account list --query '[].id' -o tsv` lists them)",
        )
    return value.lower()


def management_group(text: str) -> str:
    value = (text or "").strip()
    if value.lower().startswith("/providers/microsoft.management/managementgroups/"):
        value = value.rstrip("/").rsplit("/", 1)[-1]
    if not _GROUP.match(value):
        raise UsageError(
            f"--management-group {text!r} is not a management group id",
            "give its id (`az account management-group list --query '[].name' -o tsv` lists them)",
        )
    return value
