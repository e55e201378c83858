"""apiserver: can this host reach the API server, does its certificate fit, and is it healthy?

Hops: the name → its addresses (through the host resolver) → TCP to each address and port → the TLS handshake
(chain against the cluster's CA, the certificate's names and dates) → /readyz and /livez (anonymous: a 401 or
403 still proves reachability; with the kubeconfig's credentials: the health detail) → with Azure context, the
API server subnet, its NSG and the authorized IP ranges. The package's seams: `planning` (what to test),
`reach` (name and TCP), `tls` (the handshake and the certificate), `health`, `azureside` (the typed Azure facts'
rules), `judging` (the hops in order).
"""

from __future__ import annotations

from aksdiag.probes.apiserver.judging import judge
from aksdiag.probes.apiserver.planning import HEALTH_PATHS, ID, plan

from aksdiag.probe import Probe

__all__ = ["HEALTH_PATHS", "ID", "PROBE", "judge", "plan"]

PROBE = Probe(
    id=ID,
    title="API server reachability",
    codes=tuple(f"API{n:03d}" for n in range(1, 11)),
    plan=plan,
    judge=judge,
    commands=("apiserver", "check"),
    order=30,
)
