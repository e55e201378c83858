"""Snapshots: every fact a run gathered, as JSON, so any probe can be judged again offline (`--from`).

A snapshot holds the run's settings and a list of (need, fact) pairs, each tagged with its kind. Tokens are
never in it (no fact holds one). `redact` replaces every identifier the facts carry (ids, addresses, names,
FQDNs: aksdiag.redaction) consistently, so the verdicts of the redacted snapshot are the verdicts of the original.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

from aksdiag import facts as vocabulary
from aksdiag.facts import Outcome
from aksdiag.settings import Settings

SCHEMA = "aksdiag.snapshot/v1"


def dump(command: str, target: str, settings: Settings, facts: dict[Hashable, Any]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "command": command,
        "target": target,
        "settings": _settings_to_dict(settings),
        "facts": [{"need": _encode(need), "fact": _encode(fact)} for need, fact in facts.items()],
    }


def load(doc: dict[str, Any]) -> tuple[str, str, Settings, dict[Hashable, Any]]:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"not an {SCHEMA} document (schema: {doc.get('schema')!r})")
    facts = {_decode(pair["need"]): _decode(pair["fact"]) for pair in doc["facts"]}
    return doc["command"], doc["target"], _settings_from_dict(doc["settings"]), facts


# ---------------------------------------------------------------- codec: tagged dataclasses

_KINDS: dict[str, type] = {
    name: kind
    for name, kind in vars(vocabulary).items()
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and kind.__module__ == vocabulary.__name__
}
"""Every need and fact of aksdiag.facts: a new kind of fact is saved and read back with nothing to add here."""


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"kind": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, Outcome):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("kind")
    if kind not in _KINDS:
        return {k: _decode(v) for k, v in value.items()}
    cls = _KINDS[kind]
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in value:
            continue
        raw = _decode(value[f.name])
        if f.type == "Outcome":  # DnsAnswer's enum; the net facts' outcomes are plain strings
            raw = Outcome(raw)
        elif isinstance(raw, list) and f.name not in ("endpoints", "other_zones"):
            raw = _frozen(raw)  # tuples of tuples (AzureGetNeed.query) come back hashable
        kwargs[f.name] = raw
    return cls(**kwargs)


def _settings_to_dict(settings: Settings) -> dict[str, Any]:
    d = {f.name: _encode(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    d.pop("extra", None)
    d.pop("apiserver", None)  # holds credentials: never saved
    d.pop("arm_token", None)  # a credential: never saved
    return d


def _settings_from_dict(d: dict[str, Any]) -> Settings:
    names = {f.name for f in dataclasses.fields(Settings)} - {"extra", "apiserver", "arm_token"}
    values = {k: _frozen(_decode(v)) for k, v in d.items() if k in names}
    for key in ("servers", "expect", "ports", "addresses"):
        values[key] = tuple(values.get(key) or ())
    return Settings(**values)


def _frozen(value: Any) -> Any:
    """Settings hold tuples (of tuples: address_map), JSON gives lists back."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


# ---------------------------------------------------------------- redaction


def redact(doc: dict[str, Any]) -> dict[str, Any]:
    """Every identifier the facts carry, replaced consistently, the verdicts kept: aksdiag.redaction."""
    from aksdiag import redaction

    return redaction.redact(doc)
