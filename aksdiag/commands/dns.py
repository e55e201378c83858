"""`aksdiag dns` and `aksdiag snapshot` (the same flags), and `dns --from SNAPSHOT` (the saved facts, offline)."""

from __future__ import annotations

import argparse
import math

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.commands import builder, context
from aksdiag.errors import UsageError
from aksdiag.plan import FactSource, Plan


@builder("dns", "snapshot")
def dns(args: argparse.Namespace) -> Plan:
    if context.flag(args, "snapshot"):
        return from_snapshot(args.snapshot)
    from aksdiag.inputs import parse_endpoint, parse_fqdn, parse_ip

    azure = context.azure_need(args)
    if args.fqdn is None and azure is None:
        raise UsageError("give the FQDN to trace, or --cluster and --resource-group to use the cluster's")
    fqdn = parse_fqdn(args.fqdn) if args.fqdn is not None else ""
    if not 1 <= args.count <= 1000:
        raise UsageError(f"--count {args.count} is out of range", "use 1 to 1000")
    if args.slow_ms is not None and not 0 < args.slow_ms < math.inf:
        raise UsageError(f"--slow-ms {args.slow_ms:g} is not a positive number of milliseconds")
    settings = settings_mod.from_env(
        servers=tuple(dict.fromkeys(parse_endpoint(s) for s in args.server)),
        expect=tuple(dict.fromkeys(parse_ip(e, "address for --expect") for e in args.expect)),
        azure_dns=parse_endpoint(args.azure_dns) if args.azure_dns else None,
        resolv_conf=args.resolv_conf,
        use_resolver=not args.no_resolver,
        count=args.count,
        slow_ms=args.slow_ms,
        azure=azure,
        **context.limits(args),
    )
    return _plan(fqdn, settings)


def _plan(fqdn: str, settings: settings_mod.Settings, source: FactSource | None = None) -> Plan:
    azure = settings.azure
    label = fqdn or (f"{azure.resource_group}/{azure.cluster}" if azure else "")
    return Plan("dns", fqdn, settings, tuple(probe.for_command("dns")), label=label, source=source)


def from_snapshot(path: str) -> Plan:
    """The plan `aksdiag snapshot` saved, answered from its facts: no packet is sent."""
    import json

    from aksdiag import runner, snapshot

    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        if not isinstance(document, dict):
            raise ValueError(f"a JSON {type(document).__name__}, not an object")
        _command, target, settings, facts = snapshot.load(document)
    except OSError as e:
        raise UsageError(f"cannot read the snapshot {path}: {e.strerror or e}") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise UsageError(f"{path} is not an aksdiag snapshot ({e})") from None
    return _plan(target, settings, runner.from_snapshot(facts))
