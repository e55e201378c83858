"""ARM worlds of AKS detectors' answers beside aksdiag's own findings (issue 15).

Every world starts from a real payload shape and is broken one way; its name starts with `detectors-`. The answers
are `arm_seeds/detectors_connectivity.json`: the networking detectors' GET answers the AKS VS Code extension
recorded from a real cluster (all Success), rewritten to the lab's cluster, FQDN and addresses, and served as fake
ARM documents at `…/managedClusters/aks-lab/detectors/{id}`. What no recording shows is modelled, not observed: the
Critical and Warning answers (their status words, statusId and the insight rows are AppLens's; the messages are
ours, worded like the recorded Success ones), and the 403 ARM gives without managedClusters/detectors/read.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from aksdiag.lab.armworld.names import CLUSTER, CLUSTER_RG, PUBLIC_LB_IP, REGION, SUBSCRIPTION, seed
from aksdiag.lab.scenarios import CLUSTER_FQDN, ENDPOINT_IP

Body = dict[str, Any]

WORLDS: dict[str, str] = {
    "detectors-healthy": "the healthy world, and every networking detector answers Success (as recorded)",
    "detectors-dns-critical": "the zone's A record is stale (record-stale), and private-cluster-dns says Critical: "
    "Microsoft and aksdiag agree",
    "detectors-snat-critical": "the healthy world, and snat-usage says Critical (failed SNAT connections on the "
    "outbound IP): a verdict aksdiag's capacity model does not share",
    "detectors-udr-warning": "outbound type userDefinedRouting, and user-defined-routing says Warning",
    "detectors-few": "only private-cluster-dns and snat-usage are served (Success); the other detectors 404",
    "detectors-denied": "every detector read is refused (403: no managedClusters/detectors/read)",
}
"""World name → one line saying how it is broken (or that it is healthy)."""

CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{CLUSTER_RG}/providers/Microsoft.ContainerService/"
    f"managedClusters/{CLUSTER}"
)
RECORDED = {  # the recording's cluster → the lab's
    "/subscriptions/12345678-1234-1234-1234-1234567890ab/resourcegroups/test-rg/providers/Microsoft.ContainerService/"
    "managedClusters/test-cluster": CLUSTER_ID,
    "pebomber-devtest-dns-244af935.hcp.eastus.azmk8s.io": CLUSTER_FQDN,
    "pebomber-devtest": CLUSTER,
    "52.191.16.54": ENDPOINT_IP,
    "20.231.248.112": PUBLIC_LB_IP,
    '"eastus"': f'"{REGION}"',
}
STATUS_ID = {"Critical": 0, "Warning": 1, "Info": 2, "Success": 3, "None": 4}
"""AppLens's InsightStatus: a detector's `properties.status.statusId`."""


def answers() -> dict[str, Body]:
    """The recorded answers by detector id, rewritten to the lab's cluster."""
    text = json.dumps({k: v for k, v in seed("detectors_connectivity").items() if not k.startswith("_")})
    for recorded, lab in RECORDED.items():
        text = text.replace(recorded, lab)
    found: dict[str, Body] = json.loads(text)
    return found


def document(answer: Body) -> Body:
    """A detector's answer as the fake ARM serves it: at its own id."""
    return {"_document": True, "_path": answer["id"], **answer}


def with_insight(answer: Body, status: str, message: str, data: tuple[tuple[str, str], ...] = ()) -> Body:
    """The answer with its insights replaced by one insight of `status` (one row per data pair, as AppLens
    writes them), and the detector's statusId set to match."""
    changed = copy.deepcopy(answer)
    props = changed["properties"]
    props["status"] = {"message": None, "statusId": STATUS_ID[status]}
    tables = [ds["table"] for ds in props["dataset"] if ds["renderingProperties"].get("type") == 7]
    pairs = data or (("", ""),)
    tables[0]["rows"] = [[status, message, name, value, "True", "null"] for name, value in pairs]
    for extra in tables[1:]:
        extra["rows"] = []
    return changed


def _failed_snat(answer: Body) -> Body:
    """snat-usage with failed SNAT connections in its time series and a Critical insight."""
    changed = with_insight(
        answer,
        "Critical",
        f"SNAT port exhaustion was detected for the '{PUBLIC_LB_IP}' outbound IP: connections failed",
        (("Outbound IP", PUBLIC_LB_IP), ("Failed SNAT connections", "1204")),
    )
    for ds in changed["properties"]["dataset"]:
        if ds["renderingProperties"].get("type") == 2:
            for row in ds["table"]["rows"]:
                if str(row[1]).endswith("-Failed"):
                    row[2] = 301
    return changed


def build(world: str) -> list[Body]:
    """The resource bodies (and documents) of `world`."""
    if world not in WORLDS:
        raise ValueError(f"unknown ARM world {world!r}; one of {', '.join(WORLDS)}")
    from aksdiag.lab.armworld import worlds

    bodies = worlds.build("record-stale" if world == "detectors-dns-critical" else "healthy")
    served = answers()
    if world == "detectors-dns-critical":
        served["private-cluster-dns"] = with_insight(
            served["private-cluster-dns"],
            "Critical",
            "We found DNS resolution failures with private cluster operations",
            (
                ("Private FQDN", CLUSTER_FQDN),
                ("Error", "the name does not resolve to the API server's private endpoint"),
            ),
        )
    elif world == "detectors-snat-critical":
        served["snat-usage"] = _failed_snat(served["snat-usage"])
    elif world == "detectors-udr-warning":
        cluster = next(b for b in bodies if b.get("type", "").lower() == "microsoft.containerservice/managedclusters")
        cluster["properties"]["networkProfile"]["outboundType"] = "userDefinedRouting"
        served["user-defined-routing"] = with_insight(
            served["user-defined-routing"], "Warning", "Cluster egress pathway is set to user defined routing"
        )
    elif world == "detectors-few":
        served = {k: v for k, v in served.items() if k in ("private-cluster-dns", "snat-usage")}
    return [*bodies, *(document(a) for a in served.values())]


def faults(world: str) -> dict[str, Any]:
    """What no body can say: the 403 of a reader without managedClusters/detectors/read."""
    if world != "detectors-denied":
        return {}
    return {
        "/detectors/": {
            "status": 403,
            "code": "AuthorizationFailed",
            "message": "The client 'aksdiag-lab' with object id '00000000-0000-0000-0000-0000000000aa' does not have "
            "authorization to perform action 'Microsoft.ContainerService/managedClusters/detectors/read' over scope "
            f"'{CLUSTER_ID}/detectors/private-cluster-dns' or the scope is invalid.",
        }
    }
