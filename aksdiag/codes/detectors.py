"""DET codes: the verdicts of Microsoft's own AKS detectors (Diagnose and solve problems), beside aksdiag's.

Each detector finding carries `relates_to` {"as": "agreement"}: aksdiag.joins then says whether aksdiag's own probes
that cover the same ground found the same thing, or disagree.
"""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_DOCS = "https://learn.microsoft.com/azure/aks/aks-diagnostics"
_COMMAND = 'az rest --method get --url "{url}"'
"""The same GET aksdiag made: the detector's whole answer (tables, charts, markdown) as JSON."""

DET001 = Code(
    id="DET001",
    severity=Severity.ERROR,
    title="An AKS detector reports a critical problem",
    summary=(
        "AKS runs detectors against the cluster's own telemetry (the portal's Diagnose and solve problems): what "
        "the control plane, the nodes and the load balancer saw over the last day. A detector whose insight is "
        "Critical says something is broken now, from data aksdiag cannot see from where it runs; aksdiag says "
        "beside it whether its own probes found the same."
    ),
    fix="Read the detector's answer in full (the portal's Diagnose and solve problems, or the az rest command) and "
    "follow its solution; where aksdiag agrees, its own finding names the exact change.",
    detail="{title} ({detector}) says Critical: {says}",
    remediation="Open {title} in the portal (Diagnose and solve problems → {category}) or read its answer with "
    "az rest; the findings of {probes} name what aksdiag sees on the same ground.",
    docs=_DOCS,
    command=_COMMAND,
)

DET002 = Code(
    id="DET002",
    severity=Severity.WARNING,
    title="An AKS detector reports a warning",
    summary=(
        "An AKS detector's insight is Warning: a configuration Microsoft flags (user-defined routing as the "
        "outbound type, a route table shared between clusters) or a degradation seen in the cluster's telemetry "
        "over the last day. It may be intended; aksdiag says beside it whether its own probes see a problem there."
    ),
    fix="Read the detector's answer and decide whether the configuration is intended; where aksdiag agrees, its own "
    "finding names the exact change.",
    detail="{title} ({detector}) says Warning: {says}",
    remediation="Open {title} in the portal (Diagnose and solve problems → {category}) or read its answer with "
    "az rest; the findings of {probes} name what aksdiag sees on the same ground.",
    docs=_DOCS,
    command=_COMMAND,
)

DET003 = Code(
    id="DET003",
    severity=Severity.INFO,
    title="An AKS detector reports no problem",
    summary=(
        "An AKS detector's insights are Success (or only Info): Microsoft's telemetry shows no problem of its kind "
        "over the last day. aksdiag says beside it whether its own probes agree: a problem only aksdiag sees is "
        "often one on the path from where aksdiag runs (a DNS forwarder, a route, a firewall) that the cluster's "
        "own telemetry does not cover."
    ),
    fix="Nothing to change for this detector; where aksdiag disagrees, its own finding names the fault.",
    detail="{title} ({detector}) says {status}: {says}",
    remediation="Nothing to change for {title}.",
    docs=_DOCS,
)

DET004 = Code(
    id="DET004",
    severity=Severity.INFO,
    title="The AKS detectors may not be read with this identity",
    summary=(
        "Reading a detector needs Microsoft.ContainerService/managedClusters/detectors/read on the cluster (the "
        "Reader role and the AKS built-in roles hold it). ARM refused it, so Microsoft's verdicts are not shown "
        "beside aksdiag's; aksdiag's own probes do not need them."
    ),
    fix="Grant the identity Reader on the cluster (or a role with managedClusters/detectors/read) to see "
    "Microsoft's verdicts too.",
    detail="{count} detector read(s) refused ({status} {code}): {message}",
    remediation="Grant {action} on {cluster_id} (the Reader role has it) to compare with Microsoft's detectors.",
    docs="https://learn.microsoft.com/azure/role-based-access-control/permissions/containers",
    command='az role assignment create --assignee "<object id>" --role Reader --scope {cluster_id}',
)
