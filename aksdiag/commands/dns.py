"""`aksdiag dns` and `aksdiag snapshot` (the same flags), and `dns --from SNAPSHOT` (the saved facts, offline)."""

from __future__ import annotations

import argparse
import dataclasses
import math

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.commands import builder, context
from aksdiag.errors import UsageError
from aksdiag.facts import Endpoint, KubeContextNeed
from aksdiag.plan import FactSource, Plan


@builder("dns", "snapshot")
def dns(args: argparse.Namespace) -> Plan:
    if context.flag(args, "snapshot"):
        return from_snapshot(args.snapshot)
    from aksdiag.inputs import parse_endpoint, parse_fqdn, parse_ip
    from aksdiag.sources import files

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
        vnet_dns=tuple(dict.fromkeys(parse_endpoint(s) for s in context.flag(args, "vnet_dns", None) or ())),
        expect=tuple(dict.fromkeys(parse_ip(e, "address for --expect") for e in args.expect)),
        azure_dns=parse_endpoint(args.azure_dns) if args.azure_dns else None,
        resolv_conf=files.flag_path(args.resolv_conf, "--resolv-conf", 1 << 20),
        use_resolver=not args.no_resolver,
        count=args.count,
        slow_ms=args.slow_ms,
        azure=azure,
        kube=_kube(args),
        **context.limits(args),
    )
    return _plan(fqdn, settings)


def _kube(args: argparse.Namespace) -> KubeContextNeed | None:
    """--kubeconfig / --context: the cluster's DNS objects (kube-dns, CoreDNS pods, ConfigMaps) are read from its API
    server; in a pod the service account is used without them (cluster_dns plans that itself); else none."""
    if not (context.flag(args, "kubeconfig") or context.flag(args, "context")):
        return None
    _config, kube, _why = context.optional_kube(args)  # an unreadable kubeconfig given explicitly: exit 3 now
    return kube


def _plan(fqdn: str, settings: settings_mod.Settings, source: FactSource | None = None) -> Plan:
    return Plan("dns", fqdn, settings, tuple(probe.for_command("dns")), source=source)


def from_snapshot(path: str) -> Plan:
    """The plan `aksdiag snapshot` saved, answered from its facts: no packet is sent."""
    import json

    from aksdiag import runner, snapshot
    from aksdiag.sources import files

    try:
        document = json.loads(files.read_bytes(path))  # a FIFO or device is refused, never waited on
        wrong = _wrong_shape(document, snapshot.SCHEMA)
        if wrong:
            raise ValueError(wrong)
        _command, target, settings, facts = snapshot.load(document)
        wrong = _wrong_settings(settings) or (_wrong_target(target) if target else "")
        if wrong:
            raise ValueError(wrong)
    except OSError as e:
        raise UsageError(f"cannot read the snapshot {path}: {e.strerror or e}") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise UsageError(f"{path} is not an aksdiag snapshot ({e})") from None
    return _plan(target, settings, runner.from_snapshot(facts))


_JSON = {
    dict: "an object",
    list: "an array",
    tuple: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def _wrong_shape(document: object, schema: str) -> str:
    """Why a parsed JSON document is not a snapshot's shape ("" when its top level is right)."""
    if not isinstance(document, dict):
        return f"{'null' if document is None else _JSON.get(type(document), 'a value')}, not a JSON object"
    if document.get("schema") != schema:
        return f"not an {schema} document (schema: {document.get('schema')!r})"
    for key, kind in (("command", str), ("target", str), ("settings", dict), ("facts", list)):
        if key not in document:
            return f"it has no {key!r}"
        if not isinstance(document[key], kind):
            return f"its {key!r} is {_JSON.get(type(document[key]), 'null')}, not {_JSON[kind]}"
    if not all(isinstance(pair, dict) and "need" in pair and "fact" in pair for pair in document["facts"]):
        return "its 'facts' are not all {need, fact} objects"
    return ""


_ITEMS: dict[str, type] = {"servers": Endpoint, "vnet_dns": Endpoint, "expect": str, "addresses": str, "ports": int}
"""The item type of the settings' tuples a snapshot saves (the probes read these)."""


def _wrong_settings(settings: settings_mod.Settings) -> str:
    """Why a snapshot's settings do not have their fields' types ("" when the scalars are right)."""
    for f in dataclasses.fields(settings):
        default, value = f.default, getattr(settings, f.name)
        if default not in (None, dataclasses.MISSING) and not isinstance(value, type(default)):
            number = isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool)
            if not number:
                expected = _JSON.get(type(default), f"an {type(default).__name__}")
                return f"its settings.{f.name} is {_JSON.get(type(value), 'null')}, not {expected}"
        item = _ITEMS.get(f.name)
        if item is not None and not all(isinstance(v, item) for v in value):
            return f"its settings.{f.name} holds something that is not {_JSON.get(item, f'an {item.__name__}')}"
    return ""


def _wrong_target(target: str) -> str:
    from aksdiag.inputs import parse_fqdn

    try:
        parse_fqdn(target)
    except UsageError as e:
        return f"its target: {e.message}"
    return ""
