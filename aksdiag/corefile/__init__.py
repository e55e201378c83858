"""CoreDNS configuration, read as CoreDNS reads it: the `coredns` ConfigMap's Corefile with AKS's `coredns-custom`
keys imported (`*.server` whole server blocks, `*.override` plugin lines for the `.:53` block). Pure, no I/O.

`parse_coredns(corefile, custom)` gives the server blocks; `.explain(name)` the block CoreDNS would answer `name`
from (the most specific zone on the port) and what in it matters for the name: forward, rewrite, hosts, cache.
Not modelled: snippets and imports other than AKS's `custom/…` globs (listed in `unsupported`), environment
variables, and Caddy's brace-less single-block form. Bad input raises CorefileError naming the key and line.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from aksdiag.corefile.plugins import (
    READERS,
    Cache,
    Forward,
    HostsEntry,
    Rewrite,
    covered,
    falls_through,
    fqdn,
    read_cache,
    read_forward,
    read_hosts,
    read_rewrite,
    under,
)
from aksdiag.corefile.syntax import CorefileError, Directive, Origin, tree

__all__ = ["Cache", "CoreDNSConfig", "CorefileError", "Directive", "Explanation", "Forward", "HostsEntry", "Origin",
           "Rewrite", "ServerBlock", "ServerKey", "parse_coredns"]  # fmt: skip

_SCHEMES = {"dns": 53, "tls": 853, "grpc": 443, "https": 443, "quic": 853}


@dataclass(frozen=True)
class ServerKey:
    zone: str  # lower case, with the trailing dot: "." or "example.org."
    port: int
    transport: str = "dns"


@dataclass(frozen=True)
class ServerBlock:
    keys: tuple[ServerKey, ...]
    directives: tuple[Directive, ...]  # with the imported .override lines, each with its own origin
    origin: Origin

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(k.zone for k in self.keys)


@dataclass(frozen=True)
class Explanation:
    name: str
    zone: str  # the block's zone that won
    block: ServerBlock
    rewritten: str  # the name after the rewrites: what hosts, kubernetes and forward look up
    forward: Forward | None  # the first forward whose FROM covers the name (see `forwards`)
    forwards: tuple[Forward, ...]  # all that do, in order (older CoreDNS refuses a second forward in a block)
    rewrites: tuple[Rewrite, ...]  # the rules that apply, in order (a matching `stop` rule is the last)
    hosts: tuple[HostsEntry, ...]
    hosts_stop: tuple[Origin, ...]  # hosts plugins that cover the name, lack it and don't fall through: SERVFAIL
    cache: Cache | None  # keyed on the name as asked (cache runs before rewrite)
    plugins: tuple[str, ...]  # the block's other plugins, in order


@dataclass(frozen=True)
class CoreDNSConfig:
    blocks: tuple[ServerBlock, ...]
    unsupported: tuple[Directive, ...] = ()  # imports and snippets this reader does not follow
    ignored_keys: tuple[str, ...] = ()  # coredns-custom keys no import picks up (AKS reads *.server, *.override)

    def explain(self, name: str, port: int = 53) -> Explanation | None:
        """What CoreDNS on `port` does with `name`; None when no block's zone covers it (CoreDNS refuses)."""
        name = fqdn(name)
        best = max(
            ((k.zone, b) for b in self.blocks for k in b.keys if k.port == port and under(name, k.zone)),
            key=lambda zb: _labels(zb[0]),
            default=None,
        )
        if best is None:
            return None
        zone, block = best
        ds = block.directives
        rewrites, seen = [], name
        for rule in (read_rewrite(d) for d in ds if d.name == "rewrite"):
            if rule.matches(seen):
                rewrites.append(rule)
                seen = rule.apply(seen)
                if rule.mode == "stop":
                    break
        forwards = [f for f in (read_forward(d) for d in ds if d.name == "forward") if f.applies(seen)]
        caches = [c for c in (read_cache(d) for d in ds if d.name == "cache") if covered(name, c.zones)]
        hosts = [
            (d, es)
            for d in ds
            if d.name == "hosts"
            for zones, es in [read_hosts(d)]
            if covered(seen, zones or block.zones)
        ]
        entries = tuple(e for _, es in hosts for e in es if seen in e.names)
        return Explanation(
            name=name,
            zone=zone,
            block=block,
            rewritten=seen,
            forward=forwards[0] if forwards else None,
            forwards=tuple(forwards),
            rewrites=tuple(rewrites),
            hosts=entries,
            hosts_stop=() if entries else tuple(d.origin for d, _ in hosts if not falls_through(d, seen)),
            cache=caches[0] if caches else None,
            plugins=tuple(dict.fromkeys(d.name for d in ds if d.name not in ("forward", "rewrite", "hosts", "cache"))),
        )


def parse_coredns(corefile: str, custom: Mapping[str, str] | None = None) -> CoreDNSConfig:
    """The Corefile with AKS's `import custom/<glob>` lines resolved against the coredns-custom keys."""
    custom = dict(custom or {})
    trees = {key: tree(text, key) for key, text in sorted(custom.items())}
    top = tree(corefile, "Corefile")
    if not top:
        raise CorefileError("Corefile line 1: no server block (the Corefile is empty)")
    used: set[str] = set()
    unsupported: list[Directive] = []

    def spliced(ds: tuple[Directive, ...]) -> list[Directive]:
        out: list[Directive] = []
        for d in ds:
            keys = _imported(d, custom)
            if keys is None:
                if d.name == "import" or d.name.startswith("("):
                    unsupported.append(d)  # another import, or a snippet's definition
                else:
                    out.append(d)
                continue
            used.update(keys)
            out.extend(x for k in keys for x in trees[k])
        return out

    blocks: list[ServerBlock] = []
    seen: dict[tuple[str, int], Origin] = {}
    for d in spliced(top):
        if d.children is None:
            raise CorefileError(f"{d.origin}: expected '{{' after the server key '{d.name}'")
        block = ServerBlock(_keys(d), tuple(spliced(d.children)), d.origin)
        for k in block.keys:
            if (k.zone, k.port) in seen:
                raise CorefileError(f"{d.origin}: zone {k.zone}:{k.port} is already served ({seen[k.zone, k.port]})")
            seen[k.zone, k.port] = d.origin
        blocks.append(block)
    if not blocks:
        raise CorefileError("Corefile line 1: no server block")
    for d in (d for b in blocks for d in b.directives if d.name in READERS):
        READERS[d.name](d)  # read every rule now, so that explain() cannot fail on any name
    return CoreDNSConfig(tuple(blocks), tuple(unsupported), tuple(k for k in custom if k not in used))


def _imported(d: Directive, custom: Mapping[str, str]) -> list[str] | None:
    """The coredns-custom keys an `import custom/<glob>` picks up (mounted at /etc/coredns/custom), in glob order."""
    if d.name != "import" or d.children is not None or len(d.args) != 1 or not d.args[0].startswith("custom/"):
        return None
    return sorted(k for k in custom if fnmatch.fnmatchcase(k, d.args[0].removeprefix("custom/")))


# ---- server keys: [transport://]zone[:port], several per block ------------------------------------------------


def _keys(d: Directive) -> tuple[ServerKey, ...]:
    keys = []
    for word in (w for part in (d.name, *d.args) for w in part.split(",") if w):
        transport, _, rest = word.rpartition("://")
        transport = transport.lower() or "dns"
        if transport not in _SCHEMES:
            raise CorefileError(f"{d.origin}: unknown transport '{transport}://' in server key '{word}'")
        zone, port = rest, _SCHEMES[transport]
        host, sep, tail = rest.rpartition(":")
        if sep:
            if not re.fullmatch(r"[0-9]{1,5}", tail) or not 0 < int(tail) < 65536:
                raise CorefileError(f"{d.origin}: bad port '{tail}' in server key '{word}'")
            zone, port = host, int(tail)
        keys.append(ServerKey(fqdn(zone), port, transport))
    return tuple(keys)


def _labels(zone: str) -> int:
    return 0 if zone == "." else zone.count(".")
