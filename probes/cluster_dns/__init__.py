"""cluster_dns: the cluster's own DNS layer — the relays between a pod and the VNet's DNS servers — and why one
answers what the servers behind it do not.

Relays: AKS LocalDNS on each node (169.254.10.10 / 169.254.10.11), the kube-dns Service (CoreDNS) and each
CoreDNS pod. With a kube context it reads kube-system (the kube-dns Service, its EndpointSlices, the CoreDNS pods,
the coredns and coredns-custom ConfigMaps); with Azure context the pools' LocalDNS profiles. Every relay and every
server it forwards the name to is asked over UDP and TCP. The package's seams: `planning` (who forwards to whom,
and what to ask), `relays` (the View of the answers, gathered once), `rules` (one per code, named after it),
`judging` (the rules over the view, and the hops a report draws).
"""

from __future__ import annotations

from aksdiag.probes.cluster_dns.judging import judge
from aksdiag.probes.cluster_dns.planning import ID, plan

from aksdiag.probe import Probe

__all__ = ["PROBE", "judge", "plan"]

PROBE = Probe(
    id=ID,
    title="Cluster DNS relays (CoreDNS, LocalDNS)",
    codes=tuple(f"DNS{n:03d}" for n in (29, 30, 31, 32, 33, 34, 35, 37)),
    plan=plan,
    judge=judge,
    commands=("dns", "check"),
    optional_in=("dns",),
    order=11,
)
