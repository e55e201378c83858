"""Azure source: reads, through the real SDK clients, everything the private-DNS path of a cluster depends on.

Read-only by construction: every client carries a pipeline policy that refuses any method but GET before the
request leaves the process (clients). The cluster's context is read concurrently, level by level (context); a
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
