"""`aksdiag pod --cluster C -g RG -- egress`: the endpoints the cluster needs, read from Azure here (the pod gets no
Azure credential), passed to the pod's `egress` as --endpoint, --api-server and --region.

The list (outboundNetworkDependenciesEndpoints) and the cluster (its region, its API server's name) are read with
the same read-only sources `aksdiag egress --cluster` uses; what cannot be passed as a host to test (a wildcard, a
UDP endpoint) is said here, on stderr, since the pod will not see it.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from aksdiag.errors import AksdiagError
from aksdiag.pod.run import say


def args_from_azure(args: argparse.Namespace, err: TextIO) -> tuple[str, ...]:
    """The pod's extra `egress` arguments: every testable endpoint of the cluster's list, its API server, its
    region. A cluster that cannot be read is exit 3 saying why; a list that cannot be read leaves the essentials."""
    import asyncio
    import time

    from aksdiag import runner
    from aksdiag import settings as settings_mod
    from aksdiag.azfacts import digest
    from aksdiag.commands import context
    from aksdiag.facts import AzureContext, AzureDocument
    from aksdiag.probes.egress.endpoints import dependencies_need, targets

    need = context.azure_need(args)
    assert need is not None
    settings = settings_mod.from_env(azure=need)
    deps = dependencies_need(settings)
    assert deps is not None
    facts = asyncio.run(runner.fetch([need, deps], settings, time.monotonic() + settings.deadline))
    ctx, doc = facts[need], facts[deps]
    arm = digest(ctx) if isinstance(ctx, AzureContext) and ctx.cluster is not None else None
    if arm is None or arm.cluster is None:
        errors = ctx.errors if isinstance(ctx, AzureContext) else ()
        why = f": {errors[0].reason}" if errors else ""
        raise AksdiagError(
            f"could not read the cluster {need.cluster} in {need.resource_group} from Azure{why}",
            "check --cluster, --resource-group and --subscription, and `az login`; or pass --endpoint after --",
        )
    document = doc if isinstance(doc, AzureDocument) else None
    if document is None or document.items is None:
        why = document.error.reason if document is not None and document.error else "no answer"
        say(err, f"the cluster's list of required endpoints could not be read ({why}): the pod tests the essentials")
    found = targets(settings, document, arm)
    out: list[str] = []
    api = arm.cluster.api_fqdn
    if api:
        out += ["--api-server", api]
    if arm.cluster.location:
        out += ["--region", arm.cluster.location.lower().replace(" ", "")]
    passed = [t for t in found if t.how and t.category != "apiserver"]
    for t in passed:
        out += ["--endpoint", t.shown]
    shown = [f"{t.shown} ({t.protocol})" for t in found if not t.how]
    say(err, f"the cluster's required endpoints (from Azure): {len(passed)} to test in the pod"
        + (f"; not testable by a connect, allow them as listed: {', '.join(shown)}" if shown else ""))  # fmt: skip
    return tuple(out)
