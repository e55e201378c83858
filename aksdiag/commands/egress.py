"""`aksdiag egress`: the endpoints the cluster needs, tested from here (or, through `aksdiag pod`, from a node's pod).

`--endpoint NAME[:PORT]` (repeatable) adds the user's own; `check --endpoint` makes check test egress too.
"""

from __future__ import annotations

import argparse
import re

from aksdiag import probe
from aksdiag import settings as settings_mod
from aksdiag.commands import builder, context
from aksdiag.errors import UsageError
from aksdiag.inputs import is_ip, parse_fqdn
from aksdiag.plan import Plan

RUN = "egress"
"""Settings.extra key (probes/egress/planning.RUN): `aksdiag egress` always tests, check only with a reason."""


def _ca_bundle(path: str | None) -> str | None:
    """A --tls-ca-bundle that loads as PEM certificates, else a usage error (exit 2): a bundle aksdiag cannot
    use would otherwise make every handshake fail as if each endpoint were hijacked."""
    if not path:
        return path
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as e:
        raise UsageError(f"--tls-ca-bundle {path}: {getattr(e, 'strerror', None) or 'not PEM certificates'}",
                         "give a file of PEM CA certificates") from None  # fmt: skip
    return path


@builder("egress")
def egress(args: argparse.Namespace) -> Plan:
    from aksdiag.sources import files

    azure = context.azure_need(args)
    config, kube, kube_error = None, None, ""
    if context.flag(args, "kubeconfig") or context.flag(args, "context") or context.in_pod(args):
        config, kube, kube_error = context.optional_kube(args)  # the API server's CA; without: its chain unjudged
    ca = _ca_bundle(files.flag_path(context.flag(args, "tls_ca_bundle"), "--tls-ca-bundle", 4 << 20))
    extra = {RUN: "run", **({"kube_error": kube_error} if kube_error else {}), **cluster_hints(args)}
    settings = settings_mod.from_env(
        azure=azure,
        apiserver=config,
        kube=kube,
        endpoints=endpoints(context.flag(args, "endpoint") or []),
        tls_ca_bundle=ca or "",
        resolv_conf=files.flag_path(context.flag(args, "resolv_conf"), "--resolv-conf", 1 << 20),
        extra=extra,
        **context.limits(args),
    )
    warm_http()
    return Plan("egress", "", settings, tuple(probe.for_command("egress")))


def warm_http() -> None:
    """Import the HTTP client in the background while Azure and DNS are read: importing httpx takes 1–2 s on a
    busy box, and done in the round that sends every endpoint's GET it would be added to that round's one wait."""
    import contextlib
    import importlib
    import threading

    def load() -> None:
        for name in ("httpx", "httpcore", "anyio", "h11", "trio"):  # what building its first client imports
            with contextlib.suppress(ImportError):  # trio is optional: httpcore uses it when it is installed
                importlib.import_module(name)

    threading.Thread(target=load, name="aksdiag-warm-httpx", daemon=True).start()


def cluster_hints(args: argparse.Namespace) -> dict[str, str]:
    """--api-server and --region (what Azure says with --cluster; `aksdiag pod` passes them to the pod)."""
    out: dict[str, str] = {}
    if context.flag(args, "api_server"):
        out["api_server"] = parse_fqdn(args.api_server)
    region = context.flag(args, "region")
    if region:
        if not re.fullmatch(r"[a-z][a-z0-9]{1,40}", region.strip().lower()):
            raise UsageError(f"--region {region!r} is not an Azure region name", "e.g. koreacentral, westeurope")
        out["region"] = region.strip().lower()
    return out


def endpoints(given: list[str]) -> tuple[str, ...]:
    """Each `--endpoint NAME[:PORT]` checked and written `name:port` (an IPv4 address is a name here)."""
    out: list[str] = []
    for text in given:
        out.append(parse_endpoint_flag(text))
    return tuple(dict.fromkeys(out))


def parse_endpoint_flag(text: str) -> str:
    raw = text.strip()
    name, port_text = raw, "443"
    if raw.count(":") == 1:
        name, port_text = raw.split(":", 1)
    elif ":" in raw:
        raise UsageError(f"--endpoint {raw!r}: give NAME[:PORT] (IPv6 endpoints are not supported)")
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise UsageError(f"--endpoint {raw!r}: port {port_text!r} is not a number from 1 to 65535")
    if "*" in name:
        raise UsageError(f"--endpoint {raw!r}: a wildcard names no host to test", "give one host name")
    host = name if is_ip(name) else parse_fqdn(name)
    return f"{host.lower().rstrip('.')}:{int(port_text)}"
