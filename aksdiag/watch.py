"""What a watch sees from one round to the next: each DNS hop's answer and TTL, which answers changed, and when
the last cached old answer expires. Pure (no I/O, no clock): the CLI's `dns --watch` and the TUI's watch toggle
both hand a `Watcher` their rounds' reports and facts and the time, and show the lines it gives.

A hop's TTL is `Hop.ttl` where the probe sets it; else it is read from the round's facts (the DnsResult of the
hop's server for the name asked), so the watch works on probes that do not set it yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aksdiag.facts import DnsQuery, DnsResult
from aksdiag.model import Hop, Report, Verdict

REFERENCE_KIND = "azure-dns"
"""The hop whose answer is the right one (Azure DNS): a hop giving anything else holds an old or wrong answer."""

DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 0.5
MAX_INTERVAL = 3600.0
HISTORY = 6
"""Lines a screen keeps (the TUI's DNS tab): the newest last."""


@dataclass(frozen=True)
class HopAnswer:
    """One hop's answer in one round, reduced to what a watch compares."""

    kind: str
    name: str
    server: str
    answer: str
    """The addresses (comma-joined, behind any CNAMEs), else the rcode, else "no answer"."""
    ttl: int | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.server)


def answer_text(hop: Hop) -> str:
    answer = ",".join(sorted(hop.answers)) if hop.answers else (hop.rcode or "no answer")
    return " → ".join([*hop.cname_chain, answer]) if hop.cname_chain else answer


def hop_answers(report: Report, facts: Mapping[Hashable, Any]) -> dict[tuple[str, str], HopAnswer]:
    """Every hop that asked a server, by (kind, server), in report order; a server two probes show is kept once."""
    found: dict[tuple[str, str], HopAnswer] = {}
    for probe in report.probes:
        for hop in probe.hops:
            if not hop.server:
                continue
            ttl = hop.ttl if hop.ttl is not None else _ttl_from_facts(hop, report.target, facts)
            seen = HopAnswer(hop.kind, hop.name, hop.server, answer_text(hop), ttl)
            found.setdefault(seen.key, seen)
    return found


def _ttl_from_facts(hop: Hop, target: str, facts: Mapping[Hashable, Any]) -> int | None:
    """The TTL the hop's server gave: its A answer for the target (UDP first), else for any name it was asked."""
    best: tuple[int, int] | None = None  # (rank, ttl): the target over UDP ranks first
    for need, fact in facts.items():
        if not (isinstance(need, DnsQuery) and isinstance(fact, DnsResult) and fact.answers):
            continue
        if str(need.server) != hop.server or need.rdtype != "A":
            continue
        ttl = fact.first.ttl
        if ttl is None:
            continue
        rank = (0 if need.name.rstrip(".").lower() == target.rstrip(".").lower() else 2) + (
            0 if need.transport == "udp" else 1
        )
        if best is None or rank < best[0]:
            best = (rank, ttl)
    return None if best is None else best[1]


def changes(
    before: Mapping[tuple[str, str], HopAnswer] | None, now: Mapping[tuple[str, str], HopAnswer]
) -> list[HopAnswer]:
    """The hops whose answer is new or differs from the round before (every hop in the first round)."""
    if before is None:
        return list(now.values())
    return [h for key, h in now.items() if key not in before or before[key].answer != h.answer]


def reference(now: Mapping[tuple[str, str], HopAnswer], expect: tuple[str, ...] = ()) -> str | None:
    """The right answer: Azure DNS's (when it gave one), else the expected addresses, else unknown."""
    for hop in now.values():
        if hop.kind == REFERENCE_KIND and hop.answer != "no answer":
            return hop.answer
    return ",".join(sorted(expect)) or None


def old_answers(
    now: Mapping[tuple[str, str], HopAnswer],
    first: Mapping[tuple[str, str], HopAnswer] | None = None,
    expect: tuple[str, ...] = (),
) -> list[HopAnswer]:
    """The hops (relays, custom servers) that give an old answer: one other than the reference's; with no
    reference, the answer a hop still gives from the first round while another hop's answer has changed."""
    right = reference(now, expect)
    if right is not None:
        return [h for h in now.values() if h.kind != REFERENCE_KIND and h.answer != right]
    if first is not None and any(k in first and first[k].answer != h.answer for k, h in now.items()):
        return [h for k, h in now.items() if k in first and first[k].answer == h.answer]
    return []


def draining(hop: HopAnswer, before: Mapping[tuple[str, str], HopAnswer] | None) -> bool:
    """The hop gives the answer it gave the round before with a smaller TTL: a cached entry counting down (a
    server that answers afresh repeats its TTL, and one that cached it again starts it over)."""
    was = before.get(hop.key) if before is not None else None
    if was is None or was.answer != hop.answer or was.ttl is None or hop.ttl is None:
        return False
    return hop.ttl < was.ttl


def last_cached(
    now: Mapping[tuple[str, str], HopAnswer],
    first: Mapping[tuple[str, str], HopAnswer] | None = None,
    expect: tuple[str, ...] = (),
    before: Mapping[tuple[str, str], HopAnswer] | None = None,
) -> HopAnswer | None:
    """The hop whose old answer lives longest by its TTL, a cache seen counting down first."""
    timed = [h for h in old_answers(now, first, expect) if h.ttl is not None]
    counting = [h for h in timed if draining(h, before)]
    pool = counting or timed
    return max(pool, key=lambda h: h.ttl or 0) if pool else None


def caches_draining(
    now: Mapping[tuple[str, str], HopAnswer],
    before: Mapping[tuple[str, str], HopAnswer] | None,
    first: Mapping[tuple[str, str], HopAnswer] | None = None,
    expect: tuple[str, ...] = (),
) -> bool:
    """Some hop still holds an old answer in a cache that is counting down: the fix has not reached every layer,
    so a watch whose verdict changed goes on until it has (or the entry is refreshed instead of expiring)."""
    return any(draining(h, before) for h in old_answers(now, first, expect))


def expiry_line(hop: HopAnswer | None, at: datetime, counting: bool = True) -> str | None:
    """When the old answer of the hop last_cached() picked expires: "LocalDNS's cached NXDOMAIN expires in 1,204 s
    (14:20:31 UTC)" for a cache seen counting down (`counting`); for one not (yet) seen counting down (a server
    that answers afresh repeats its TTL), only how long a cache may keep it."""
    if hop is None or hop.ttl is None:
        return None
    if hop.ttl <= 0:
        return f"{hop.name} ({hop.server}) answers {hop.answer} with TTL 0: a stale entry it serves past expiry"
    until = (at + timedelta(seconds=hop.ttl)).strftime("%H:%M:%S")
    if counting:
        return f"{hop.name}'s cached {hop.answer} expires in {hop.ttl:,} s ({until} UTC), at {hop.server}"
    return f"{hop.name} still answers {hop.answer} (TTL {hop.ttl:,} s: a cache may keep it until {until} UTC), at {hop.server}"


def change_line(hop: HopAnswer, at: datetime) -> str:
    """One compact line of a hop whose answer changed: time, hop (kind and server), answer, TTL."""
    ttl = f"TTL {hop.ttl:,}" if hop.ttl is not None else "TTL -"
    return f"{at:%H:%M:%S}  {hop.kind:<12} {hop.server:<22} {hop.answer}  {ttl}"


@dataclass
class Watcher:
    """The rounds of one watch: what the last one gave, and whether the watch has reached its end — the verdict
    differs from the first round's and no layer still holds an old answer in a cache counting down (a fixed custom
    server turns broken into degraded while CoreDNS still answers its cached NXDOMAIN: watch on until it expires)."""

    interval: float = DEFAULT_INTERVAL
    expect: tuple[str, ...] = ()
    rounds: int = 0
    start: Verdict | None = None
    verdict: Verdict | None = None
    was: Verdict | None = None
    """The verdict before this round's, when this round changed it."""
    expiry: str | None = None
    """When the last cached old answer expires (expiry_line), as of this round."""
    draining: bool = False
    first: dict[tuple[str, str], HopAnswer] | None = None
    before: dict[tuple[str, str], HopAnswer] | None = None
    history: deque[str] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def round(self, report: Report, facts: Mapping[Hashable, Any], at: datetime) -> list[str]:
        """Take in one round; the lines it adds: a line per hop whose answer changed, the verdict when it did."""
        hops = hop_answers(report, facts)
        lines = [change_line(hop, at) for hop in changes(self.before, hops)]
        self.was = self.verdict if self.verdict is not report.verdict else None
        if self.verdict is not report.verdict:
            was = f"{self.verdict.value} → " if self.verdict is not None else ""
            lines.append(f"{at:%H:%M:%S}  verdict {was}{report.verdict.value}")
        self.first = self.first if self.first is not None else hops
        self.start = self.start or report.verdict
        self.draining = caches_draining(hops, self.before, self.first, self.expect)
        last = last_cached(hops, self.first, self.expect, self.before)
        self.expiry = expiry_line(last, at, last is not None and draining(last, self.before))
        self.before, self.verdict, self.rounds = hops, report.verdict, self.rounds + 1
        self.history.extend(lines)
        return lines

    @property
    def ended(self) -> bool:
        return self.verdict is not self.start and not self.draining

    def lines(self) -> list[str]:
        """A screen's view: the watch's state, when the old answer expires, the latest changes."""
        head = f"watching every {self.interval:g} s · round {self.rounds}"
        if self.verdict is not None:
            head += f" · verdict {self.verdict.value}"
        return [head + " · w stops", *([self.expiry] if self.expiry else []), *self.history]
