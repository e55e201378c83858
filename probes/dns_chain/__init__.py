"""dns_chain: the private-DNS resolution path of one name, hop by hop, and where it breaks.

Hops: the host resolver (resolv.conf) → each custom DNS server → Azure DNS → the expected endpoint. Every server
is asked over UDP and TCP; the answers are compared with Azure DNS's (the reference for private zones) and with
the expected address. The package's seams: `planning` (what to ask), `chain` (the Server/Chain view of the
answers, gathered once), `rules` (one per code, named after it), `judging` (the rules over the chain, and the
hops a report draws).
"""

from __future__ import annotations

from aksdiag.probes.dns_chain.judging import judge
from aksdiag.probes.dns_chain.planning import ID, plan

from aksdiag.probe import Probe

__all__ = ["PROBE", "judge", "plan"]

PROBE = Probe(
    id=ID,
    title="DNS resolution chain",
    codes=tuple(f"DNS{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17, 18, 20, 21, 22, 36)),
    plan=plan,
    judge=judge,
    commands=("dns", "check"),
    order=10,
)
