"""The vocabulary sources produce and probes consume: needs (what to look at) and facts (what was seen).

Plain frozen dataclasses with no I/O. A failure to fetch (timeout, garbage, refusal) is a fact value, never an
exception, so probes can judge it and tests can build it by hand.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True, order=True)
class Endpoint:
    """A server address and port; prints as `127.0.0.1:53` or `[::1]:53`."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def short(self) -> str:
        """The host alone when the port is the default 53, as people write it."""
        return self.host if self.port == 53 else str(self)


class Outcome(str, Enum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"
    TRUNCATED = "truncated"
    """A UDP reply with TC set: not an answer; a resolver asks again over TCP, and that reply is what it uses."""
    CNAME_LOOP = "cname-loop"
    CNAME_TOO_LONG = "cname-too-long"
    """The CNAME chain did not reach an address within the depth limit resolvers follow."""
    RCODE = "rcode"
    """Another error rcode (FORMERR, NOTIMP, YXDOMAIN, NOTAUTH, an unassigned one): the `error` says which."""

    @property
    def conclusive(self) -> bool:
        """A resolver stops at this outcome (it does not try the next nameserver)."""
        return self in (Outcome.ANSWER, Outcome.NXDOMAIN, Outcome.NODATA)

    @property
    def responded(self) -> bool:
        """The server sent a DNS reply we could read (whatever its rcode)."""
        return self not in (Outcome.TIMEOUT, Outcome.UNREACHABLE, Outcome.ERROR)

    @property
    def label(self) -> str:
        return {
            "answer": "an answer",
            "nxdomain": "NXDOMAIN",
            "nodata": "no address (NOERROR, empty answer)",
            "servfail": "SERVFAIL",
            "refused": "REFUSED",
            "timeout": "no answer (timed out)",
            "unreachable": "no answer (unreachable)",
            "error": "a broken answer",
            "truncated": "a truncated answer",
            "cname-loop": "a CNAME loop",
            "cname-too-long": "a CNAME chain past the depth limit",
            "rcode": "an error rcode",
        }[self.value]


@dataclass(frozen=True)
class DnsQuery:
    """Need: ask `server` for `name`/`rdtype` over `transport`, `samples` times."""

    server: Endpoint
    name: str
    rdtype: str = "A"
    transport: str = "udp"
    samples: int = 1


@dataclass(frozen=True)
class DnsAnswer:
    """One query's outcome. `zone` is the owner of an SOA seen in the reply (the zone that answered)."""

    outcome: Outcome
    rcode: str | None = None
    addresses: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()
    elapsed_ms: float | None = None
    error: str | None = None
    truncated: bool = False
    zone: str | None = None
    ttl: int | None = None
    """Seconds the answer may be cached, as the server said: the smallest TTL of the answer's records, or for a
    denial (NXDOMAIN, NODATA) the negative-caching TTL (min of the SOA's TTL and MINIMUM). A caching relay counts it
    down, so it tells when a cached answer expires; None when there was no reply (or nothing to cache)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "outcome": self.outcome.value,
            "rcode": self.rcode,
            "addresses": list(self.addresses),
        }
        if self.cname_chain:
            d["cname_chain"] = list(self.cname_chain)
        if self.elapsed_ms is not None:
            d["elapsed_ms"] = round(self.elapsed_ms, 1)
        if self.error:
            d["error"] = self.error
        if self.truncated:
            d["truncated"] = True
        if self.zone:
            d["zone"] = self.zone
        if self.ttl is not None:
            d["ttl"] = self.ttl
        return d


@dataclass(frozen=True)
class DnsResult:
    """Fact for a DnsQuery: one answer per sample, in the order sent."""

    query: DnsQuery
    answers: tuple[DnsAnswer, ...]

    @property
    def first(self) -> DnsAnswer:
        """The representative answer: the first conclusive one, else the first."""
        for answer in self.answers:
            if answer.outcome.conclusive:
                return answer
        return self.answers[0]


def client_answer(udp: DnsResult | None, tcp: DnsResult | None, missing: str = "not queried") -> DnsAnswer:
    """What a client gets from one server asked over UDP and TCP: UDP's answer, or TCP's when UDP gave nothing
    usable (a truncated UDP reply is asked again over TCP, so TCP's reply is the answer whenever there is one)."""
    if udp and udp.first.outcome is Outcome.TRUNCATED and tcp and tcp.first.outcome.responded:
        return tcp.first
    results = [r for r in (udp, tcp) if r is not None]
    for result in results:
        if result.first.outcome.conclusive:
            return result.first
    for result in results:
        if result.first.outcome.responded:
            return result.first
    return results[0].first if results else DnsAnswer(Outcome.ERROR, error=missing)


@dataclass(frozen=True)
class ResolverConfigNeed:
    """Need: read the host's resolver configuration (resolv.conf)."""

    path: str


@dataclass(frozen=True)
class ResolverConfig:
    """Fact: what a resolv.conf says. `error` is set when it could not be read."""

    path: str
    nameservers: tuple[Endpoint, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1
    rotate: bool = False
    error: str | None = None
    upstreams: tuple[Endpoint, ...] = field(default=())
    """For a systemd-resolved stub (127.0.0.53): the real upstream servers, when they could be read."""


class ReadFailure(str, Enum):
    """Why a read of ARM or the Kubernetes API failed: the one classification every source uses. Only FORBIDDEN
    is a finding about the reader's role; the others mean the probe could not look (its status is `error`)."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS = "tls"
    UNAUTHORIZED = "unauthorized"
    NO_CREDENTIALS = "no-credentials"
    """Nothing to sign in with (a pod without its service account token): no request was sent."""
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    THROTTLED = "throttled"
    SERVER = "server"
    GARBAGE = "garbage"

    @classmethod
    def of_status(cls, status: int) -> ReadFailure:
        """An HTTP status that is not a success; 0 (no response at all) is UNREACHABLE."""
        known = {0: cls.UNREACHABLE, 401: cls.UNAUTHORIZED, 403: cls.FORBIDDEN, 404: cls.NOT_FOUND, 408: cls.TIMEOUT,
                 429: cls.THROTTLED}  # fmt: skip
        return known.get(status) or (cls.SERVER if status >= 500 else cls.GARBAGE)

    @property
    def label(self) -> str:
        return {
            "unreachable": "unreachable",
            "timeout": "no answer in time",
            "tls": "TLS failed",
            "unauthorized": "credentials refused (401)",
            "no-credentials": "no credentials",
            "forbidden": "forbidden (403)",
            "not-found": "not found (404)",
            "throttled": "throttled (429)",
            "server": "server error (5xx)",
            "garbage": "an unreadable answer",
        }[self.value]


def is_public_address(address: str) -> bool:
    """True for an internet-routable address (not private, loopback, link-local, shared or reserved)."""
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


@dataclass(frozen=True)
class AzureContextNeed:
    """Need: what ARM says about one cluster's private-DNS path (read-only)."""

    subscription: str
    resource_group: str
    cluster: str
    endpoint: str = "https://management.azure.com"
    load_balancers: bool = False
    """Also read the node resource group's load balancers and public IPs (whois, lb)."""

    @property
    def cluster_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerService/managedClusters/{self.cluster}"
        )


@dataclass(frozen=True)
class AzureReadError:
    """A read ARM refused or could not answer (403, 404, 429 after retries…): a fact, the other reads go on."""

    scope: str
    status: int
    code: str
    message: str
    action: str = ""
    failure: str = ""
    """A ReadFailure value; empty in facts built before it existed (then the status says)."""

    @property
    def kind(self) -> ReadFailure:
        return ReadFailure(self.failure) if self.failure else ReadFailure.of_status(self.status)

    @property
    def refusal(self) -> bool:
        """403 or 404: Azure answered, and what it said is a finding (a role, a resource); anything else means
        the read could not be made, and the probe could not look."""
        return self.kind in (ReadFailure.FORBIDDEN, ReadFailure.NOT_FOUND)

    @property
    def reason(self) -> str:
        return f"reading {self.scope}: {self.kind.label}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "status": self.status, "code": self.code, "message": self.message,
                "action": self.action, "failure": self.kind.value}  # fmt: skip


@dataclass(frozen=True)
class AzureContext:
    """Fact: ARM resources as their REST bodies (camelCase, as Azure returns them), keyed by lower-cased id.

    `zone` holds the private DNS zone with its `links` and A `records` (None where a read failed);
    `endpoints` the API server's private endpoints, each with its `nics` (and, when it was found through the
    cluster's privateEndpointConnections, its `connection`): the node resource group's and every other one.
    `other_zones` holds every private zone of a searched subscription that could answer the FQDN.
    """

    need: AzureContextNeed
    cluster: dict[str, Any] | None = None
    vnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    zone: dict[str, Any] | None = None
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    other_zones: list[dict[str, Any]] = field(default_factory=list)
    """Other private zones of the subscription whose names are suffixes of the FQDN (shape of `zone`)."""
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    public_ips: list[dict[str, Any]] = field(default_factory=list)
    nsgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """NSGs on the cluster's subnets (node pools and API server subnet), keyed by lower-cased id."""
    role_assignments: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    """The cluster identity's role assignments by scope (a BYO zone, the cluster VNets); None where unreadable."""
    zone_mode: str | None = None
    errors: tuple[AzureReadError, ...] = ()
    requests: int = 0
    # ---- the enterprise topology (landing zones across subscriptions; FIELD.md E1-E5)
    subscriptions: list[dict[str, Any]] | None = None
    """The subscriptions the identity can list (GET /subscriptions bodies); None where the list failed."""
    resolvers: list[dict[str, Any]] = field(default_factory=list)
    """DNS Private Resolvers: {"resolver": body, "inbound": [bodies] | None, "outbound": [bodies] | None}."""
    rulesets: list[dict[str, Any]] = field(default_factory=list)
    """DNS forwarding rulesets: {"ruleset": body, "rules": [bodies] | None, "links": [bodies] | None}."""
    firewalls: list[dict[str, Any]] = field(default_factory=list)
    """Azure Firewalls that hold a DNS server address: {"firewall": body, "policy": body | None}."""
    server_hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A custom DNS server's address → {"nic": body, "vm": body | None}: the NIC that holds it and its VM."""
    role_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The role definitions of the cluster identity's assignments, by lower-cased definition GUID."""
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The cluster's user-assigned identities (Microsoft.ManagedIdentity bodies), by lower-cased id."""
    searched_subscriptions: tuple[str, ...] = ()
    """The subscriptions whose private zones, resolvers, rulesets and firewalls were listed (lower-cased ids)."""
    # ---- the way out (issue 15)
    route_tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The route tables on the cluster's subnets (node pools, API server subnet), keyed by lower-cased id."""
    nat_gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The NAT gateways on the cluster's subnets, keyed by lower-cased id."""
    scale_sets: list[dict[str, Any]] = field(default_factory=list)
    """The node resource group's virtual machine scale sets (the node pools' NIC configurations and their NSGs);
    the NSGs they name are read into `nsgs` with the subnets'."""


@dataclass(frozen=True)
class AzureGetNeed:
    """Need: one ARM GET the SDKs have no typed operation for, through the same read-only pipeline (issue 15): the
    cluster's outboundNetworkDependenciesEndpoints, an AKS detector, Azure Monitor metrics of a load balancer or a
    NAT gateway. `path` is the resource path (`/subscriptions/…`), `query` the other query parameters, in order;
    `paged` follows `nextLink` and collects every page's `value`."""

    path: str
    api_version: str
    query: tuple[tuple[str, str], ...] = ()
    paged: bool = False
    endpoint: str = "https://management.azure.com"

    @property
    def url(self) -> str:
        """The path with its query, relative to the endpoint (what the pipeline sends)."""
        from urllib.parse import urlencode

        return f"{self.path}?{urlencode([('api-version', self.api_version), *self.query])}"


@dataclass(frozen=True)
class AzureDocument:
    """Fact for an AzureGetNeed: the body ARM answered (for a paged read, `items` holds every page's `value`), or
    the read's error (a 403, 404… is a fact like any other read's)."""

    body: dict[str, Any] | None = None
    items: tuple[dict[str, Any], ...] | None = None
    error: AzureReadError | None = None
    requests: int = 0


@dataclass(frozen=True)
class TcpConnectNeed:
    """Need: can a TCP connection to address:port be opened?"""

    address: str
    port: int


@dataclass(frozen=True)
class TcpConnect:
    outcome: str  # open | refused | timeout | error
    elapsed_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class TlsNeed:
    """Need: a TLS handshake with `server_name` as SNI, the chain checked against `ca_pem` (None: the system
    store), or not checked at all when `verify` is false (no CA is known, as with --fqdn alone)."""

    address: str
    port: int
    server_name: str
    ca_pem: str | None = None
    verify: bool = True
    ca_file: str = ""
    """A CA bundle file trusted instead of the system store when `ca_pem` is None (egress: Settings.tls_ca_bundle)."""


@dataclass(frozen=True)
class TlsPeer:
    outcome: str  # ok | refused | timeout | error
    trusted: bool | None = None
    verify_error: str | None = None
    subject: str = ""
    issuer: str = ""
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    not_before: str = ""
    not_after: str = ""
    elapsed_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class HttpNeed:
    """Need: GET `path` from the API server at address:port (SNI and Host `server_name`).

    `authenticated` asks for the client's credentials, which the source sends only over a verified TLS
    connection; the credentials themselves are never part of a need or a fact."""

    address: str
    port: int
    server_name: str
    path: str
    authenticated: bool = False


@dataclass(frozen=True)
class HttpResult:
    outcome: str  # ok | refused | timeout | tls-error | error | not-sent
    status: int | None = None
    body: str = ""
    elapsed_ms: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class KubeContextNeed:
    """Where the cluster's API server is: a kubeconfig (and context), or the pod's service account."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False


@dataclass(frozen=True)
class KubeListNeed:
    """Need: list `resource` (`pods`, `nodes`, `services`, `events`, `nodenetworkconfigs`, `endpointslices`,
    `configmaps`) across namespaces, or in `namespace`; with `name`, GET that one object (its KubeList holds it
    alone, or says 403/404): RBAC's `resourceNames` grants a GET of a named object, never a list."""

    context: KubeContextNeed
    resource: str
    field_selector: str = ""
    label_selector: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class KubeList:
    """Fact: the objects as the API server returned them (JSON dicts), or why they could not be read."""

    items: tuple[dict[str, Any], ...] = ()
    status: int = 200
    error: str | None = None
    """403 (RBAC), 404 (no such resource, e.g. the NodeNetworkConfig CRD is absent), or a connection error."""
    failure: str = ""
    """A ReadFailure value when the list failed (empty: the status says, 0 being unreachable)."""

    @property
    def kind(self) -> ReadFailure | None:
        if not self.error:
            return None
        return ReadFailure(self.failure) if self.failure else ReadFailure.of_status(self.status)

    @property
    def forbidden(self) -> bool:
        return self.kind is ReadFailure.FORBIDDEN

    def reason(self, resource: str) -> str:
        """`pods: unreachable: …`, for a probe's `error` reason."""
        return f"listing {resource}: {self.kind.label if self.kind else 'ok'}: {self.error}"


@dataclass(frozen=True)
class AzureVmssNicsNeed:
    """Need: the NICs of one VMSS (classic Azure CNI pre-allocates pod IPs as their secondary IP configs)."""

    subscription: str
    resource_group: str
    vmss: str
    endpoint: str = "https://management.azure.com"


@dataclass(frozen=True)
class AzureVmssNics:
    nics: tuple[dict[str, Any], ...] = ()
    error: AzureReadError | None = None


@dataclass(frozen=True)
class ClockNeed:
    """Need: the time now. The clock is read by the runner, never by a probe, so the instant a verdict depends on
    (a certificate's expiry) is a fact: saved in a snapshot, a run judged later gives the same verdict."""


@dataclass(frozen=True)
class Clock:
    """Fact: when the run looked, as an ISO 8601 UTC timestamp (`2025-06-01T12:00:00+00:00`)."""

    utc: str
