"""The one catalogue of finding codes: severity, title, what it means, the fix, the docs.

One module per family (dns, private_dns, forwarding, cluster_dns, az, api, ip, lb, cluster, egress, outbound,
tunnel, auth, detectors) holds its entries; `CATALOGUE` is built by walking
this package and collecting every `Code` the modules define, so a new code is one new entry and nothing else.
Probes make findings only through `CODE.at(...)`, filling the templates' named fields; `aksdiag explain CODE`
prints the entry. Codes are stable: never reuse a retired one.
"""

from __future__ import annotations

import importlib
import pkgutil

from aksdiag.codes.api import *  # noqa: F403  (the entries as attributes: codes.API001, for the type checker too)
from aksdiag.codes.auth import *  # noqa: F403
from aksdiag.codes.az import *  # noqa: F403
from aksdiag.codes.cluster import *  # noqa: F403
from aksdiag.codes.detectors import *  # noqa: F403
from aksdiag.codes.dns import *  # noqa: F403
from aksdiag.codes.egress import *  # noqa: F403
from aksdiag.codes.entry import Code
from aksdiag.codes.forwarding import *  # noqa: F403
from aksdiag.codes.ip import *  # noqa: F403
from aksdiag.codes.lb import *  # noqa: F403
from aksdiag.codes.outbound import *  # noqa: F403
from aksdiag.codes.private_dns import *  # noqa: F403
from aksdiag.codes.tunnel import *  # noqa: F403


def _collect() -> dict[str, Code]:
    """Every Code defined in a module of this package, by id; two entries with one id are a bug."""
    found: dict[str, Code] = {}
    for module_info in pkgutil.iter_modules(__path__):  # noqa: F405  (the package's own path)
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, Code) and found.setdefault(value.id, value) is not value:
                raise RuntimeError(f"{value.id} is defined twice (again in {module.__name__})")
    return dict(sorted(found.items()))


CATALOGUE: dict[str, Code] = _collect()
"""Every code, ordered by id (the order `aksdiag explain` lists them in)."""


def lookup(code_id: str) -> Code | None:
    return CATALOGUE.get(code_id.strip().upper())
