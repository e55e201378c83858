"""Which endpoints the egress probe tests: the cluster's own list (outboundNetworkDependenciesEndpoints), the AKS
essentials (what `az aks check-network outbound` tests on a node, FIELD.md E8), the API server's /healthz and the
user's --endpoint, each once by name and port, and which of them can be tested by a connect."""

from __future__ import annotations

from dataclasses import dataclass

from aksdiag.azfacts import AzureFacts
from aksdiag.azfacts_egress import OutboundEndpoint
from aksdiag.facts import AzureDocument, AzureGetNeed
from aksdiag.inputs import is_ip
from aksdiag.settings import Settings

ID = "egress"
API_VERSION = "2026-08-01"
"""The api-version the installed azure-mgmt-containerservice sends for this list (its newest stable)."""
GIVEN = "given"
"""The category of an endpoint the user (or `aksdiag pod`, from the cluster's list) passed with --endpoint."""


@dataclass(frozen=True)
class Target:
    """One endpoint to test: `how` is https (DNS, TCP, TLS, HTTP), tcp (DNS, TCP), or "" (shown only, `why_not`)."""

    name: str
    port: int
    category: str
    protocol: str = "Https"
    path: str = "/"
    how: str = "https"
    why_not: str = ""

    @property
    def shown(self) -> str:
        return f"{self.name}:{self.port}"


def dependencies_need(settings: Settings) -> AzureGetNeed | None:
    """The GET of the cluster's required endpoints (paged, as ARM lists them), with Azure context."""
    if settings.azure is None:
        return None
    path = f"{settings.azure.cluster_id}/outboundNetworkDependenciesEndpoints"
    return AzureGetNeed(path, API_VERSION, paged=True, endpoint=settings.azure.endpoint)


def essentials(region: str) -> list[tuple[str, str]]:
    """(category, name) of what AgentBaker's aks-check-network.sh tests from a node (FIELD.md E8)."""
    out = [("images", "mcr.microsoft.com")]
    if region:
        out.append(("images", f"{region}.data.mcr.microsoft.com"))
    out += [("azure-resource-management", "login.microsoftonline.com"), ("artifacts", "packages.microsoft.com"),
            ("artifacts", "acs-mirror.azureedge.net"), ("azure-resource-management", "management.azure.com")]  # fmt: skip
    return out


def parse_given(text: str) -> tuple[str, int]:
    """`NAME[:PORT]` as validated by the command (port 443 by default)."""
    name, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    return (name or text).lower().rstrip("."), int(port) if port else 443


def targets(settings: Settings, facts_doc: AzureDocument | None, arm: AzureFacts | None) -> list[Target]:
    """Every endpoint once by (name, port): the user's first, then the cluster's list, the essentials and the API
    server. A name the user gives that the cluster also needs keeps the cluster's category (and its checks)."""
    found: dict[tuple[str, int], Target] = {}

    def add(t: Target) -> None:
        found.setdefault((t.name, t.port), t)

    if facts_doc is not None and facts_doc.items is not None:
        for e in OutboundEndpoint.from_list(facts_doc.items):
            add(_target(e.category, e.domain.lower().rstrip("."), e.port, e.protocol))
    cluster = arm.cluster if arm is not None else None
    region = cluster.location.lower().replace(" ", "") if cluster is not None else settings.extra.get("region", "")
    for category, name in essentials(region):
        add(_target(category, name, 443, "Https"))
    api = cluster.api_fqdn if cluster is not None else settings.extra.get("api_server", "")
    if api:
        found.pop((api, 443), None)  # tested at /healthz, whatever the list called it
        add(Target(api, 443, "apiserver", "Https", "/healthz"))
    first: dict[tuple[str, int], Target] = {}
    for text in settings.endpoints:
        name, port = parse_given(text)
        known = found.pop((name, port), None)
        first[(name, port)] = known or _target(GIVEN, name, port, "Https" if port == 443 else "Tcp")
    return [*first.values(), *found.values()]


def _target(category: str, name: str, port: int, protocol: str) -> Target:
    proto = protocol.lower()
    if "*" in name:
        return Target(name, port, category, protocol, how="", why_not="a wildcard names no host to connect to")
    if proto == "udp":
        return Target(name, port, category, protocol, how="", why_not="UDP: no connect to test (resolved only)")
    if is_ip(name):
        return Target(name, port, category, protocol, how="https" if proto == "https" else "tcp")
    if proto == "https" or (proto == "tcp" and port == 443):
        return Target(name, port, category, "Https")
    why = "plain HTTP: reached by TCP only" if proto == "http" else ""
    return Target(name, port, category, protocol, how="tcp", why_not=why)
