"""`aksdiag fleet`: its flags become a FleetPlan (the scope: subscriptions, management groups or all; the checked
--filter; the ARM endpoint and the run's limits), once. Bad flags are UsageErrors (exit 2)."""

from __future__ import annotations

import argparse

from aksdiag.fleet.engine import FleetPlan


def fleet_plan(args: argparse.Namespace) -> FleetPlan:
    raise NotImplementedError
