"""The node bootstrap (CSE) exit code in a provisioning error, and what each code means. Pure text reading.

AKS writes a failed node bootstrap into the cluster's and the pool's status.provisioningError in a few shapes
(Learn's error-code articles, AKS RP's own classification): the legacy "VM has reported a failure when processing
extension 'vmssCSE' … command terminated with exit status=52 … "ExitCode": "52"", the newer "CSE failed with
'VMExtensionError_K8SAPIServerConnFail' … ExitCode: 51", or the error code itself (K8SAPIServerConnFailVMExtensionError).
A bare "exit code 53" counts only where the text is about the CSE extension: other extensions (the monitoring
agent's MMAExtension) have exit codes of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aksdiag.azfacts import Cluster


@dataclass(frozen=True)
class ExitCode:
    """One of AgentBaker's CSE exit codes (cse_helpers.sh), with the probes that can see its cause."""

    number: int
    constant: str
    meaning: str
    probes: tuple[str, ...] = ()
    """The probes whose findings can explain it (evidence relates_to), none where aksdiag cannot see the cause."""
    prefixes: tuple[str, ...] = ()
    advice: str = ""


_DNS = ("dns_chain", "private_dns", "cluster_dns")
_EGRESS = ("outbound", "egress")  # the node subnet's own path (outbound) before what this host reaches (egress)
_DOWNLOAD = (
    "A download timed out: let the node subnet reach the required endpoints (mcr.microsoft.com, "
    "packages.microsoft.com, acs-mirror.azureedge.net) through its egress path."
)

KNOWN: dict[int, ExitCode] = {
    e.number: e
    for e in (
        ExitCode(50, "ERR_OUTBOUND_CONN_FAIL", "no outbound connection", _EGRESS, ("EG",)),
        ExitCode(
            51,
            "ERR_K8S_API_SERVER_CONN_FAIL",
            "cannot connect to the API server",
            ("apiserver", "tunnel"),
            ("API", "TUN"),
        ),
        ExitCode(52, "ERR_K8S_API_SERVER_DNS_LOOKUP_FAIL", "cannot resolve the API server's name", _DNS, ("DNS",)),
        ExitCode(
            53,
            "ERR_K8S_API_SERVER_AZURE_DNS_LOOKUP_FAIL",
            "cannot resolve the API server's name through Azure DNS",
            _DNS,
            ("DNS",),
        ),
        ExitCode(31, "ERR_K8S_DOWNLOAD_TIMEOUT", "Kubernetes binaries download timed out", _EGRESS, ("EG",), _DOWNLOAD),
        ExitCode(35, "ERR_CONTAINER_IMG_PULL_TIMEOUT", "container image pull timed out", _EGRESS, ("EG",), _DOWNLOAD),
        ExitCode(41, "ERR_CNI_DOWNLOAD_TIMEOUT", "CNI binaries download timed out", _EGRESS, ("EG",), _DOWNLOAD),
        ExitCode(
            42,
            "ERR_MS_PROD_DEB_DOWNLOAD_TIMEOUT",
            "packages.microsoft.com download timed out",
            _EGRESS,
            ("EG",),
            _DOWNLOAD,
        ),
        ExitCode(
            65,
            "ERR_VHD_FILE_NOT_FOUND",
            "a file of the node image is missing",
            (),
            (),
            "A node image problem, not the network: upgrade the pool's node image (az aks nodepool "
            "upgrade --node-image-only).",
        ),
        ExitCode(
            99,
            "ERR_APT_UPDATE_TIMEOUT",
            "apt-get update timed out",
            _EGRESS,
            ("EG",),
            "apt-get update could not reach its mirrors (security.ubuntu.com, azure.archive.ubuntu.com): "
            "allow them on the node subnet's egress path.",
        ),
        ExitCode(
            124,
            "timeout",
            "the bootstrap script timed out, which can hide 50, 51 or 52",
            ("dns_chain", "private_dns", "apiserver", *_EGRESS),
            ("DNS", "API", "EG"),
            "The script's own timeout usually hides a network failure to mcr.microsoft.com or to the API "
            "server's FQDN: check both paths from the node subnet.",
        ),
        ExitCode(
            211, "ERR_ORAS_PULL_NETWORK_TIMEOUT", "the bootstrap registry pull timed out", _EGRESS, ("EG",), _DOWNLOAD
        ),
        ExitCode(
            212,
            "ERR_ORAS_PULL_UNAUTHORIZED",
            "the bootstrap registry refused the kubelet identity",
            (),
            (),
            "Give the kubelet identity AcrPull on the bootstrap container registry.",
        ),
    )
}

NAMED = {
    "outboundconnfailvmextensionerror": 50,
    "vmextensionerror_outboundconnfail": 50,
    "err_outbound_conn_fail": 50,
    "k8sapiserverconnfailvmextensionerror": 51,
    "vmextensionerror_k8sapiserverconnfail": 51,
    "err_k8s_api_server_conn_fail": 51,
    "k8sapiserverdnslookupfailvmextensionerror": 52,
    "vmextensionerror_k8sapiserverdnslookupfail": 52,
    "err_k8s_api_server_dns_lookup_fail": 52,
    "err_k8s_api_server_azure_dns_lookup_fail": 53,
}
"""Error (sub)codes that name their exit code: they count wherever they appear."""

_NAME = re.compile(r"[A-Za-z0-9_]+")
_ABOUT_CSE = re.compile(r"vmsscse|\bcse\b|cse-agent|custom script extension", re.IGNORECASE)
_NUMBER = re.compile(
    r"exit status\s*[=:]?\s*(\d+)|\"?exitcode\"?\s*[:=]\s*\"?(\d+)|exit code(?: of)?\s*:?\s*'?(\d+)", re.IGNORECASE
)


def exit_code(error_code: str, message: str) -> int | None:
    """The CSE exit code a provisioning error names, or None where it names none (or is about another
    extension). A name (K8SAPIServerConnFailVMExtensionError) wins over a number in the text."""
    for word in _NAME.findall(f"{error_code} {message}"):
        if word.lower() in NAMED:
            return NAMED[word.lower()]
    if not _ABOUT_CSE.search(message):
        return None
    for match in _NUMBER.finditer(message):
        number = int(next(g for g in match.groups() if g))
        if number:
            return number
    return None


def describe(number: int) -> ExitCode:
    """The exit code's entry; one the table does not hold is said as its number, with no probe to join."""
    return KNOWN.get(number) or ExitCode(
        number,
        "",
        f"exit code {number}",
        (),
        (),
        "See the node's /var/log/azure/cluster-provision.log for the step that failed.",
    )


def exit_codes(cluster: Cluster) -> dict[int, list[str]]:
    """Every CSE exit code the cluster's and its pools' provisioning errors name → where ("the cluster", "pool
    x"): for a probe that runs only when the nodes failed its way (egress on exit 50)."""
    found: dict[int, list[str]] = {}
    places = [("the cluster", cluster.error_code, cluster.error_message)]
    places += [(f"pool {p.name}", p.error_code, p.error_message) for p in cluster.pools]
    for where, code, message in places:
        number = exit_code(code, message) if code or message else None
        if number is not None:
            found.setdefault(number, []).append(where)
    return found
