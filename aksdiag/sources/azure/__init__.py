"""Azure source: reads, through the real SDK clients, everything the private-DNS path of a cluster depends on.

Read-only by construction: every client carries a pipeline policy that refuses any method but GET before the
request leaves the process (clients). The cluster's context (context) is read in every subscription its
resources live in, one client per subscription and SDK over one shared transport (subscriptions), each read as
soon as its inputs are known: zones (zones), private endpoints and connections (endpoints), Private Resolvers and
forwarding rulesets (forwarding), what holds a DNS server's address (servers), identities and roles (roles); a
VMSS's NICs on their own (nics). A 403 or 404 is recorded as a fact and the other reads go on; a 401 or a missing
credential stops the command (exit 3) with what to do (reads, errors).
"""

from aksdiag.sources.azure.clients import (
    CLOUDS,
    ENV_ENDPOINT,
    ENV_TOKEN,
    StaticToken,
    WriteRefused,
    client_kwargs,
    credential,
    endpoint_for,
)
from aksdiag.sources.azure.context import fetch
from aksdiag.sources.azure.nics import fetch_vmss_nics

__all__ = [
    "CLOUDS",
    "ENV_ENDPOINT",
    "ENV_TOKEN",
    "StaticToken",
    "WriteRefused",
    "client_kwargs",
    "credential",
    "endpoint_for",
    "fetch",
    "fetch_vmss_nics",
]
