"""The context every command may use, resolved once from its flags: Azure (the cluster in ARM), Kubernetes (a
kubeconfig context or the pod's service account), and the run's limits (--timeout, --deadline, --output).

Flags arrive as an argparse Namespace (the CLI parser only parses); a flag a command does not have reads as None.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aksdiag import settings as settings_mod
from aksdiag.errors import AksdiagError, UsageError
from aksdiag.facts import AzureContextNeed, KubeContextNeed

if TYPE_CHECKING:
    from aksdiag.sources.kubeconfig import ApiServerConfig

DEADLINE_RANGE = (0.5, 600.0)


def flag(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)


def in_pod(args: argparse.Namespace) -> bool:
    """In a pod, without an explicit kubeconfig or context: the pod's service account is the context."""
    explicit = bool(flag(args, "kubeconfig") or flag(args, "context"))
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not explicit


def azure_need(args: argparse.Namespace, load_balancers: bool = False) -> AzureContextNeed | None:
    """The cluster to read from ARM (--cluster, --resource-group, --subscription, --cloud), or None without one."""
    cluster, group = flag(args, "cluster"), flag(args, "resource_group")
    if not cluster and not group:
        return None
    if not (cluster and group):
        raise UsageError("--cluster and --resource-group go together")
    subscription = flag(args, "subscription") or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if not subscription:
        raise UsageError("no subscription", "pass --subscription or set AZURE_SUBSCRIPTION_ID")
    from aksdiag.sources.azure import endpoint_for

    need = AzureContextNeed(subscription, group, cluster, arm_endpoint(endpoint_for(flag(args, "cloud"))))
    return replace(need, load_balancers=True) if load_balancers else need


def arm_endpoint(url: str) -> str:
    """ARM's URL (AKSDIAG_ARM_ENDPOINT or the cloud's) when it is https:// with a host: the token goes there."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError as e:
        raise UsageError(f"AKSDIAG_ARM_ENDPOINT={url!r} is not a URL ({e})") from None
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(
            f"AKSDIAG_ARM_ENDPOINT={url!r} is not an https:// URL with a host",
            "the ARM token is sent there: e.g. https://management.azure.com",
        )
    return url


def apiserver_config(args: argparse.Namespace) -> ApiServerConfig:
    """The kubeconfig's context, or the pod's service account; a missing or unreadable one is exit 3."""
    from aksdiag.sources import kubeconfig

    if in_pod(args):
        found = kubeconfig.in_cluster()
        if found is not None:
            return trusted(found)
    return trusted(kubeconfig.load(flag(args, "kubeconfig"), flag(args, "context")))


def trusted(config: ApiServerConfig) -> ApiServerConfig:
    """The config, once its CA is a PEM certificate a TLS context loads (else exit 3 naming it, not a TLS error)."""
    if config.ca_pem:
        import ssl

        try:
            ssl.create_default_context(cadata=config.ca_pem)
        except (ssl.SSLError, ValueError):
            raise AksdiagError(
                f"{config.source}: the certificate-authority holds no PEM certificate that loads",
                "fix certificate-authority(-data) in the kubeconfig, or run `az aks get-credentials` again",
            ) from None
    return config


def optional_kube(args: argparse.Namespace) -> tuple[ApiServerConfig | None, KubeContextNeed | None, str]:
    """The Kubernetes context when one is at hand, else (None, None, why), for commands that can do without it.

    An explicit --kubeconfig or --context that cannot be read is still an error (exit 3)."""
    explicit = bool(flag(args, "kubeconfig") or flag(args, "context"))
    try:
        config = apiserver_config(args)
    except UsageError:
        raise
    except AksdiagError as e:
        if explicit:
            raise
        return None, None, str(e)
    return config, kube_need(args), ""


def kube_need(args: argparse.Namespace) -> KubeContextNeed:
    return KubeContextNeed(flag(args, "kubeconfig"), flag(args, "context"), in_cluster=in_pod(args))


def limits(args: argparse.Namespace) -> dict[str, object]:
    """--timeout (one question's wait) and --deadline (the whole run's), and --output, as settings overrides."""
    timeout = settings_mod.parse_timeout(args.timeout) if flag(args, "timeout") is not None else None
    deadline = None
    if flag(args, "deadline") is not None:
        low, high = DEADLINE_RANGE
        deadline = settings_mod.parse_timeout(args.deadline, low, high, flag="--deadline")
    elif timeout is not None:
        deadline = max(settings_mod.Settings.deadline, timeout)
    return {"timeout": timeout, "deadline": deadline, "output": flag(args, "output")}
