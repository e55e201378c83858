"""egress: can this host (or a pod) reach every endpoint the cluster needs — by name, TCP, TLS and HTTP?

The endpoints: the cluster's own list (outboundNetworkDependenciesEndpoints, with Azure context), the AKS
essentials a node bootstrap needs, the API server's /healthz, and the user's --endpoint. Each name is resolved
through the host's resolver; then every endpoint's TCP connect, TLS handshake (SNI = the name; the system store or
--tls-ca-bundle) and GET / are sent in one round, so blackholed endpoints cost one timeout in total. Seams:
`endpoints` (what to test), `planning` (the rounds), `judging` (the layers and the codes).
"""

from __future__ import annotations

from aksdiag.probes.egress.endpoints import ID
from aksdiag.probes.egress.judging import judge
from aksdiag.probes.egress.planning import plan

from aksdiag.probe import Probe

PROBE = Probe(
    id=ID,
    title="Egress to the required endpoints",
    codes=tuple(f"EG{n:03d}" for n in range(1, 10)),
    plan=plan,
    judge=judge,
    commands=("egress", "check"),
    optional_in=("check",),
    order=35,
)
