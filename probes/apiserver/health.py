"""Health: /readyz and /livez, anonymous (a 401 or 403 still proves the API server is reachable) and with the
kubeconfig's credentials (the detail of each check); failing checks or a 5xx are API005."""

from __future__ import annotations

import re

from aksdiag.probes.apiserver.planning import ID, at

from aksdiag import codes
from aksdiag.facts import HttpResult
from aksdiag.model import Finding, Hop, Status


def health_hop(
    index: int, address: str, port: int, path: str, anonymous: HttpResult, authed: HttpResult | None,
    findings: list[Finding],
) -> Hop:  # fmt: skip
    label = path.split("?")[0]
    result = authed if authed is not None and authed.outcome == "ok" else anonymous
    if result.outcome != "ok":
        return Hop(index, "health", label, Status.FAIL, server=at(address, port), rcode=result.outcome,
                   detail=result.error or "")  # fmt: skip
    status_code = result.status or 0
    failing = re.findall(r"^\[-\](\S+)", result.body, flags=re.MULTILINE)
    notes = []
    if result is anonymous and status_code in (401, 403):
        notes.append(f"{status_code} to an anonymous request: the API server is reachable")
        if authed is not None and authed.outcome != "ok":
            notes.append(f"with credentials: {authed.error or authed.outcome}")
        elif authed is None:
            notes.append("the health detail needs the kubeconfig's credentials")
        status = Status.OK
    elif status_code >= 500 or failing:
        checks = ", ".join(failing) or f"HTTP {status_code}"
        findings.append(codes.API005.at(ID, hop=index, path=label, status=status_code, checks=checks,
                                        evidence={"body": result.body[:1000]}))  # fmt: skip
        status = Status.FAIL
    else:
        notes.append(f"HTTP {status_code}" + (" (with credentials)" if result is authed else ""))
        status = Status.OK
    return Hop(index, "health", label, status, server=at(address, port), rcode=str(status_code),
               elapsed_ms=result.elapsed_ms, detail="; ".join(notes))  # fmt: skip
