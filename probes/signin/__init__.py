"""signin: does the kubeconfig's user get in? A 401 or 403 *with* credentials is its own diagnosis (issue 15).

With the kubeconfig's credential it asks the API server who the user is (GET /api: 401 means the credential is
refused) and what `kubectl get pods` asks (a list in the context's namespace: 403 names the user and the missing
permission), and judges the answer with the kubeconfig (a static token's claims, kubelogin's login mode, tenant and
server id; whether a terminal is there for a device code) and, with Azure context, the cluster's Entra ID settings
(aadProfile: Azure RBAC on or off, admin groups, tenant; disableLocalAccounts). The package's seams: `credential`
(what the kubeconfig signs in with), `planning`, `rules` (one per code), `judging` (the view and the hops).
"""

from __future__ import annotations

from aksdiag.probes.signin.judging import judge
from aksdiag.probes.signin.planning import ID, plan

from aksdiag.probe import Probe

__all__ = ["PROBE", "judge", "plan"]

PROBE = Probe(
    id=ID,
    title="Sign-in (credentials and authorization)",
    codes=tuple(f"AUTH{n:03d}" for n in range(1, 10)),
    plan=plan,
    judge=judge,
    commands=("check",),
    optional_in=(),
    order=31,
)
