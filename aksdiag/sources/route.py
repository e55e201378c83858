"""Where a packet really goes, for every source: the address map and the loopback guard, in one place.

The address map (Settings.address_map) sends what is meant for a shown address to another one: the lab stands in
for a VNet, so 10.1.0.4:53 or 10.224.0.4:443 reach a lab server on loopback while facts and findings keep
the shown address. The loopback guard (Settings.loopback_only, or AKSDIAG_LOOPBACK_ONLY=1, which the tests set)
refuses any destination off 127.0.0.0/8 and ::1, after the map: a bug cannot leak a packet. The environment
variable is honoured even when settings say otherwise, so settings built by hand cannot turn the guard off.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aksdiag.facts import Endpoint
from aksdiag.inputs import parse_endpoint

if TYPE_CHECKING:
    from aksdiag.settings import Settings

ENV_ADDRESS_MAP = "AKSDIAG_ADDRESS_MAP"
"""`10.1.0.4=127.0.0.1:5301,10.224.0.4:443=127.0.0.1:41234`: read into Settings.address_map by from_env."""
ENV_LOOPBACK_ONLY = "AKSDIAG_LOOPBACK_ONLY"
"""`1`: never send to an address off loopback (the tests set it)."""


def destination(server: Endpoint, settings: Settings | None = None) -> Endpoint:
    """Where a packet meant for `server` really goes: its entry in the address map, or `server` itself.

    A shown address without a port maps every port of it; a real address without a port keeps the shown port.
    """
    for meant, real in _address_map(settings):
        if meant in (server.host, str(server)):
            return parse_endpoint(real, default_port=server.port)
    return server


def refused(address: str, settings: Settings | None = None) -> str | None:
    """Why nothing may be sent to `address` (an IP or a host name), or None when it may."""
    if not _loopback_only(settings):
        return None
    try:
        if ipaddress.ip_address(address.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass
    return f"not sent: {address} is off loopback and {ENV_LOOPBACK_ONLY}=1"


def url(text: str, settings: Settings | None = None) -> str:
    """The URL with its host and port replaced by where the address map sends them (the URL itself if nowhere)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(text)
    if not parts.hostname:
        return text
    port = parts.port or (443 if parts.scheme == "https" else 80)
    real = destination(Endpoint(parts.hostname, port), settings)
    if (real.host, real.port) == (parts.hostname, port):
        return text
    return urlunsplit(parts._replace(netloc=str(real)))


def refused_url(url: str, settings: Settings | None = None) -> str | None:
    """The guard for a URL's host (ARM, the Kubernetes API server)."""
    from urllib.parse import urlsplit

    return refused(urlsplit(url).hostname or "", settings)


def _address_map(settings: Settings | None) -> tuple[tuple[str, str], ...]:
    if settings is not None:
        return tuple(settings.address_map)
    from aksdiag.settings import parse_address_map

    return parse_address_map(os.environ.get(ENV_ADDRESS_MAP, ""))


def _loopback_only(settings: Settings | None, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_LOOPBACK_ONLY) == "1" or (settings is not None and settings.loopback_only)
