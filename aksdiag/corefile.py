"""CoreDNS configuration, read as CoreDNS reads it: the `coredns` ConfigMap's Corefile with AKS's `coredns-custom`
keys imported (`*.server` whole server blocks, `*.override` plugin lines for the `.:53` block). Pure, no I/O.

`parse_coredns(corefile, custom)` gives the server blocks; `.explain(name)` the block CoreDNS would answer `name`
from (the most specific zone on the port) and what in it matters for the name: forward, rewrite, hosts, cache.
Not modelled: snippets and imports other than AKS's `custom/…` globs (listed in `unsupported`), environment
variables, and Caddy's brace-less single-block form. Bad input raises CorefileError naming the key and line.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aksdiag.errors import AksdiagError

_SCHEMES = {"dns": 53, "tls": 853, "grpc": 443, "https": 443, "quic": 853}
_TYPES = ("exact", "prefix", "suffix", "substring", "regex")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_MAX_DEPTH = 64
_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_TOKEN = re.compile(r'"((?:\\"|[^"])*)("?)|#[^\n]*|[^\s#"][^\s#]*')  # a quote inside a word is a letter


class CorefileError(AksdiagError):
    """The CoreDNS configuration cannot be read; the message names the ConfigMap key and the line."""

    def __init__(self, message: str) -> None:  # one line, whatever a quoted token held
        super().__init__(_BREAKS.sub(lambda m: m.group(0).encode("unicode_escape").decode(), message))


@dataclass(frozen=True)
class Origin:
    key: str  # "Corefile" or the coredns-custom key ("private.server")
    line: int

    def __str__(self) -> str:
        return f"{self.key} line {self.line}"


@dataclass(frozen=True)
class Directive:
    """One plugin line; `children` is its `{ … }` block (None without one)."""

    name: str
    args: tuple[str, ...]
    children: tuple[Directive, ...] | None
    origin: Origin


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
        excepts = [_fqdn(z) for z in self.option("except") or ()]
        return _under(name, self.from_zone) and not any(_under(name, z) for z in excepts)


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
        p = _fqdn(self.pattern) if self.match in ("exact", "suffix") else self.pattern.lower()
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
            return _fqdn(
                re.sub(r"\{([0-9])\}", lambda g: (m[int(g[1])] or "") if int(g[1]) <= m.re.groups else g[0], to)
            )
        if self.match == "prefix":
            return _fqdn(to + name[len(p) :])
        if self.match == "suffix":
            return name[: len(name) - len(_fqdn(p))] + _fqdn(to)
        return _fqdn(to if self.match == "exact" else name.replace(p, to, 1))


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
        name = _fqdn(name)
        best = max(
            ((k.zone, b) for b in self.blocks for k in b.keys if k.port == port and _under(name, k.zone)),
            key=lambda zb: _labels(zb[0]),
            default=None,
        )
        if best is None:
            return None
        zone, block = best
        ds = block.directives
        rewrites, seen = [], name
        for rule in (_rewrite(d) for d in ds if d.name == "rewrite"):
            if rule.matches(seen):
                rewrites.append(rule)
                seen = rule.apply(seen)
                if rule.mode == "stop":
                    break
        forwards = [f for f in (_forward(d) for d in ds if d.name == "forward") if f.applies(seen)]
        caches = [c for c in (_cache(d) for d in ds if d.name == "cache") if _covered(name, c.zones)]
        hosts = [
            (d, es)
            for d in ds
            if d.name == "hosts"
            for zones, es in [_hosts(d)]
            if _covered(seen, zones or block.zones)
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
            hosts_stop=() if entries else tuple(d.origin for d, _ in hosts if not _falls_through(d, seen)),
            cache=caches[0] if caches else None,
            plugins=tuple(dict.fromkeys(d.name for d in ds if d.name not in ("forward", "rewrite", "hosts", "cache"))),
        )


def parse_coredns(corefile: str, custom: Mapping[str, str] | None = None) -> CoreDNSConfig:
    """The Corefile with AKS's `import custom/<glob>` lines resolved against the coredns-custom keys."""
    custom = dict(custom or {})
    trees = {key: _tree(text, key) for key, text in sorted(custom.items())}
    top = _tree(corefile, "Corefile")
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
    for d in (d for b in blocks for d in b.directives if d.name in _READERS):
        _READERS[d.name](d)  # read every rule now, so that explain() cannot fail on any name
    return CoreDNSConfig(tuple(blocks), tuple(unsupported), tuple(k for k in custom if k not in used))


# ---- tokens and the tree --------------------------------------------------------------------------------------


def _tokens(text: str, key: str) -> list[tuple[str, int, int, bool]]:
    """(text, first line, last line, quoted), as CoreDNS's Caddy lexer: `#` to end of line, "…" with \\"."""
    out, line, pos = [], 1, 0
    for m in _TOKEN.finditer(text):
        line, pos, tok = line + text.count("\n", pos, m.start()), m.start(), m.group(0)
        if tok[0] == '"':
            if not m.group(2):
                raise CorefileError(f"{key} line {line}: unterminated quoted string")
            out.append((m.group(1).replace('\\"', '"'), line, line + tok.count("\n"), True))
        elif tok[0] != "#":
            out.append((tok, line, line, False))
    return out


def _tree(text: str, key: str) -> tuple[Directive, ...]:
    """Statements (a line's tokens; a trailing comma continues it) nested by `{` … `}`."""
    frames: list[tuple[list[str], Origin | None, list[Directive]]] = [([], None, [])]
    current: list[str] = []
    at = Origin(key, 1)
    last = 0

    def flush() -> None:
        if current:
            frames[-1][2].append(Directive(current[0], tuple(current[1:]), None, at))
            current.clear()

    for tok, first, end, quoted in _tokens(text, key):
        if not quoted and tok in ("{", "}"):
            if tok == "{":
                if not current:
                    raise CorefileError(f"{key} line {first}: '{{' with nothing before it")
                if len(frames) > _MAX_DEPTH:
                    raise CorefileError(f"{key} line {first}: blocks nested too deep")
                frames.append((list(current), at, []))
                current.clear()
            else:
                flush()
                if len(frames) == 1:
                    raise CorefileError(f"{key} line {first}: '}}' closes no block")
                words, origin, children = frames.pop()
                assert origin is not None
                frames[-1][2].append(Directive(words[0], tuple(words[1:]), tuple(children), origin))
        else:
            if current and first != last and not current[-1].endswith(","):
                flush()
            if not current:
                at = Origin(key, first)
            current.append(tok)
        last = end
    flush()
    if len(frames) > 1:
        raise CorefileError(f"{frames[-1][1]}: '{{' is never closed")
    return tuple(frames[0][2])


def _imported(d: Directive, custom: Mapping[str, str]) -> list[str] | None:
    """The coredns-custom keys an `import custom/<glob>` picks up (mounted at /etc/coredns/custom), in glob order."""
    if d.name != "import" or d.children is not None or len(d.args) != 1 or not d.args[0].startswith("custom/"):
        return None
    return sorted(k for k in custom if fnmatch.fnmatchcase(k, d.args[0].removeprefix("custom/")))


# ---- the plugins this reader understands ----------------------------------------------------------------------


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
        keys.append(ServerKey(_fqdn(zone), port, transport))
    return tuple(keys)


def _forward(d: Directive) -> Forward:
    if len(d.args) < 2:
        raise CorefileError(f"{d.origin}: forward needs FROM and at least one TO")
    options = tuple((c.name, c.args) for c in d.children or ())
    return Forward(_fqdn(d.args[0]), d.args[1:], options, d.origin)


def _rewrite(d: Directive) -> Rewrite:
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


def _hosts(d: Directive) -> tuple[tuple[str, ...], tuple[HostsEntry, ...]]:
    """(the zones it serves, its inline entries); FILE (default /etc/hosts) is read by CoreDNS, not here."""
    entries = []
    for c in d.children or ():
        try:
            address = str(ipaddress.ip_address(c.name))
        except ValueError:
            continue  # an option: fallthrough, ttl, reload, no_reverse
        if not c.args:
            raise CorefileError(f"{c.origin}: hosts entry {c.name} names no host")
        entries.append(HostsEntry(address, tuple(_fqdn(a) for a in c.args), c.origin))
    return tuple(_fqdn(z) for z in d.args[1:]), tuple(entries)


def _falls_through(d: Directive, name: str) -> bool:
    fall = [c for c in d.children or () if c.name == "fallthrough"]
    return any(_covered(name, tuple(_fqdn(z) for z in c.args)) for c in fall)


def _cache(d: Directive) -> Cache:
    args = list(d.args)
    ttl = _seconds(args.pop(0), d.origin) if args and args[0][:1] in "0123456789" else None
    success, denial, stale = ttl or 3600.0, ttl or 1800.0, None
    for c in d.children or ():
        if c.name in ("success", "denial") and len(c.args) >= 2:
            value = _seconds(c.args[1], c.origin)
            success, denial = (value, denial) if c.name == "success" else (success, value)
        elif c.name == "serve_stale":
            stale = _seconds(c.args[0], c.origin) if c.args else 3600.0
    return Cache(success, denial, stale, tuple(_fqdn(z) for z in args), d.origin)


def _seconds(word: str, origin: Origin) -> float:
    """`30`, `30s`, `1h30m`: CoreDNS takes bare seconds for TTLs and Go durations elsewhere; both are read."""
    if re.fullmatch(r"[0-9]{1,9}", word):
        return float(word)
    if len(word) < 30 and re.fullmatch(r"(?:[0-9]+(?:\.[0-9]+)?(?:h|ms|m|s))+", word):
        return sum(float(v) * _UNIT[u] for v, u in _DURATION.findall(word))
    raise CorefileError(f"{origin}: bad duration '{word}'")


def _fqdn(name: str) -> str:
    name = name.lower().strip()
    return name if name.endswith(".") else name + "."


def _under(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def _labels(zone: str) -> int:
    return 0 if zone == "." else zone.count(".")


def _covered(name: str, zones: tuple[str, ...]) -> bool:
    return not zones or any(_under(name, z) for z in zones)


_READERS: dict[str, Callable[[Directive], object]] = {
    "forward": _forward,
    "rewrite": _rewrite,
    "cache": _cache,
    "hosts": _hosts,
}
