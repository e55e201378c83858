"""The plugins whose settings decide what CoreDNS does with a name: forward, rewrite, hosts and cache, read from
their directives (an error names the key and line). Pure, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from aksdiag.corefile.syntax import CorefileError, Directive, Origin

_TYPES = ("exact", "prefix", "suffix", "substring", "regex")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass(frozen=True)
class Forward:
    from_zone: str
    targets: tuple[str, ...]  # as written: "10.0.0.4", "dns://10.0.0.4:53", "/etc/resolv.conf"
    options: tuple[tuple[str, tuple[str, ...]], ...]
    origin: Origin

    def option(self, name: str) -> tuple[str, ...] | None:
        return next((args for n, args in self.options if n == name), None)

    @property
    def node_resolver(self) -> bool:
        """A path target (`/etc/resolv.conf`): the node's own upstreams, not a named server."""
        return any(t.startswith("/") for t in self.targets)

    @property
    def force_tcp(self) -> bool:
        return self.option("force_tcp") is not None

    @property
    def prefer_udp(self) -> bool:
        return self.option("prefer_udp") is not None

    @property
    def policy(self) -> str:
        return (self.option("policy") or ("random",))[0]

    def applies(self, name: str) -> bool:
        excepts = [fqdn(z) for z in self.option("except") or ()]
        return under(name, self.from_zone) and not any(under(name, z) for z in excepts)


@dataclass(frozen=True)
class Rewrite:
    field: str  # name, type, class, ttl, edns0…
    match: str  # exact, prefix, suffix, substring, regex ("" for fields that apply to every query)
    pattern: str
    replacement: str
    mode: str  # "stop" (default) or "continue"
    origin: Origin

    def matches(self, name: str) -> bool:
        if self.field not in ("name", "ttl"):
            return True
        if self.match == "regex":
            return re.search(self.pattern, name) is not None
        p = fqdn(self.pattern) if self.match in ("exact", "suffix") else self.pattern.lower()
        ok = {"exact": name == p, "prefix": name.startswith(p), "suffix": name.endswith(p), "substring": p in name}
        return ok[self.match]

    def apply(self, name: str) -> str:
        """The name the later plugins (hosts, kubernetes, forward) see once this rule has matched `name`."""
        if self.field != "name":
            return name
        to, p = self.replacement.lower(), self.pattern.lower()
        if self.match == "regex":
            m = re.search(self.pattern, name)
            if m is None:
                return name
            return fqdn(
                re.sub(r"\{([0-9])\}", lambda g: (m[int(g[1])] or "") if int(g[1]) <= m.re.groups else g[0], to)
            )
        if self.match == "prefix":
            return fqdn(to + name[len(p) :])
        if self.match == "suffix":
            return name[: len(name) - len(fqdn(p))] + fqdn(to)
        return fqdn(to if self.match == "exact" else name.replace(p, to, 1))


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True)
class Cache:
    success_ttl: float  # the cap on a positive answer's TTL, seconds (CoreDNS default 3600)
    denial_ttl: float  # the cap on NXDOMAIN/NODATA (default 1800)
    serve_stale: float | None  # how long an expired answer may still be served, None if off
    zones: tuple[str, ...]
    origin: Origin


def read_forward(d: Directive) -> Forward:
    if len(d.args) < 2:
        raise CorefileError(f"{d.origin}: forward needs FROM and at least one TO")
    options = tuple((c.name, c.args) for c in d.children or ())
    return Forward(fqdn(d.args[0]), d.args[1:], options, d.origin)


def read_rewrite(d: Directive) -> Rewrite:
    words = list(d.args)
    mode = words.pop(0) if words and words[0] in ("stop", "continue") else "stop"
    if not words and d.children:  # rewrite stop { name regex FROM TO; answer name … }
        rule = next((c for c in d.children if c.name != "answer"), None)
        words = [rule.name, *rule.args] if rule else []
    if not words:
        raise CorefileError(f"{d.origin}: rewrite without a rule")
    field, rest = words[0].lower(), words[1:]
    if field not in ("name", "ttl"):
        return Rewrite(field, "", " ".join(rest), "", mode, d.origin)
    match = rest.pop(0).lower() if rest and rest[0].lower() in _TYPES else "exact"
    if len(rest) < 2:
        raise CorefileError(f"{d.origin}: rewrite {field} needs FROM and TO")
    if match == "regex":
        try:
            re.compile(rest[0])
        except (re.error, OverflowError, RecursionError, ValueError) as e:
            raise CorefileError(f"{d.origin}: bad rewrite regex {rest[0]!r}: {e}") from None
    return Rewrite(field, match, rest[0], rest[1], mode, d.origin)


def read_hosts(d: Directive) -> tuple[tuple[str, ...], tuple[HostsEntry, ...]]:
    """(the zones it serves, its inline entries); FILE (default /etc/hosts) is read by CoreDNS, not here."""
    entries = []
    for c in d.children or ():
        try:
            address = str(ipaddress.ip_address(c.name))
        except ValueError:
            continue  # an option: fallthrough, ttl, reload, no_reverse
        if not c.args:
            raise CorefileError(f"{c.origin}: hosts entry {c.name} names no host")
        entries.append(HostsEntry(address, tuple(fqdn(a) for a in c.args), c.origin))
    return tuple(fqdn(z) for z in d.args[1:]), tuple(entries)


def falls_through(d: Directive, name: str) -> bool:
    fall = [c for c in d.children or () if c.name == "fallthrough"]
    return any(covered(name, tuple(fqdn(z) for z in c.args)) for c in fall)


def read_cache(d: Directive) -> Cache:
    args = list(d.args)
    ttl = _seconds(args.pop(0), d.origin) if args and args[0][:1] in "0123456789" else None
    success, denial, stale = ttl or 3600.0, ttl or 1800.0, None
    for c in d.children or ():
        if c.name in ("success", "denial") and len(c.args) >= 2:
            value = _seconds(c.args[1], c.origin)
            success, denial = (value, denial) if c.name == "success" else (success, value)
        elif c.name == "serve_stale":
            stale = _seconds(c.args[0], c.origin) if c.args else 3600.0
    return Cache(success, denial, stale, tuple(fqdn(z) for z in args), d.origin)


def _seconds(word: str, origin: Origin) -> float:
    """`30`, `30s`, `1h30m`: CoreDNS takes bare seconds for TTLs and Go durations elsewhere; both are read."""
    if re.fullmatch(r"[0-9]{1,9}", word):
        return float(word)
    if len(word) < 30 and re.fullmatch(r"(?:[0-9]+(?:\.[0-9]+)?(?:h|ms|m|s))+", word):
        return sum(float(v) * _UNIT[u] for v, u in _DURATION.findall(word))
    raise CorefileError(f"{origin}: bad duration '{word}'")


def fqdn(name: str) -> str:
    name = name.lower().strip()
    return name if name.endswith(".") else name + "."


def under(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def _labels(zone: str) -> int:
    return 0 if zone == "." else zone.count(".")


def covered(name: str, zones: tuple[str, ...]) -> bool:
    return not zones or any(under(name, z) for z in zones)


READERS: dict[str, Callable[[Directive], object]] = {
    "forward": read_forward,
    "rewrite": read_rewrite,
    "cache": read_cache,
    "hosts": read_hosts,
}
