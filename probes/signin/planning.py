"""Planning: where the kubeconfig's API server is (its name through the host's resolver, as the apiserver probe
resolves it, so the reads are shared), and the two requests made with the kubeconfig's credentials: discovery
(`GET /api`: who the user is — a 401 here is a refused credential) and a list in the context's namespace
(`GET …/pods?limit=1`, what `kubectl get pods` asks: a 403 here names the user and the missing permission)."""

from __future__ import annotations

from collections.abc import Hashable
from urllib.parse import quote

from aksdiag.probes.apiserver.planning import addresses_to_test, server_name, stub_lookup
from aksdiag.probes.signin import credential

from aksdiag.facts import ClockNeed, HttpNeed, HttpResult, ResolverConfigNeed
from aksdiag.probe import Facts, Skip
from aksdiag.settings import Settings

ID = "signin"
DISCOVERY = "/api"
UNANSWERED = ("timeout", "refused", "tls-error", "error")


def namespace_of(settings: Settings) -> str:
    config = settings.apiserver
    return (config.namespace if config is not None else "") or "default"


def list_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods?limit=1"


def http_needs(address: str, settings: Settings) -> tuple[HttpNeed, HttpNeed]:
    """(discovery, the namespaced list), both with the kubeconfig's credentials."""
    config = settings.apiserver
    assert config is not None
    sni = server_name(config.host, settings) or address
    return (
        HttpNeed(address, config.port, sni, DISCOVERY, authenticated=True),
        HttpNeed(address, config.port, sni, list_path(namespace_of(settings)), authenticated=True),
    )


def plan(name: str, settings: Settings, facts: Facts) -> list[Hashable]:
    config = settings.apiserver
    if config is None:
        why = settings.extra.get("kube_error")
        raise Skip(
            f"no kubeconfig: {why}" if why else "no kubeconfig: pass --kubeconfig (or run `az aks get-credentials`)"
        )
    if config.source == "in-cluster service account":
        raise Skip("in a pod: the pod's service account signs in, not a person's kubeconfig")
    cred = credential.of(config)
    if cred.kind == "none":
        raise Skip(
            f"{config.source}: the user has no token, client certificate or exec plugin: nothing to sign in with"
        )
    if settings.azure and settings.azure not in facts:
        return [settings.azure]  # the cluster's Entra ID settings (shared with every probe: one read)
    host = config.host
    addresses = addresses_to_test(host, settings, facts)
    if addresses is None:  # resolve first, as the apiserver probe does (the same queries)
        need = ResolverConfigNeed(settings.resolv_conf)
        resolver = facts.get(need)
        return [need] if resolver is None else [need, *stub_lookup(host, resolver, facts)[0]]
    if not addresses:
        raise Skip(f"{host} does not resolve here, so nobody signs in: the apiserver probe says why")
    needs = http_needs(addresses[0], settings)
    _skip_unanswered(needs, cred.kind == "exec", facts)
    return [ClockNeed(), *needs]


def _skip_unanswered(needs: tuple[HttpNeed, HttpNeed], from_plugin: bool, facts: Facts) -> None:
    """Once asked: an API server that did not answer says nothing about signing in (the apiserver probe judges
    reachability); a request not sent is a sign-in fact only when the exec plugin gave no credential."""
    first = facts.get(needs[0])
    if not isinstance(first, HttpResult):
        return
    where = f"{needs[0].address}:{needs[0].port}"
    if first.outcome in UNANSWERED:
        raise Skip(
            f"the API server at {where} did not answer ({first.error or first.outcome}): the apiserver probe says why"
        )
    if first.outcome == "not-sent" and not (from_plugin and (first.error or "").startswith("exec plugin")):
        raise Skip(f"no request was sent to {where}: {first.error}")
