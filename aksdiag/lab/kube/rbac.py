"""RBAC for the fake API server: who a bearer token is, and whether the world's Roles, ClusterRoles and their
bindings let that user make a request, as kube-apiserver's RBAC authorizer decides (rbac/v1 semantics).

Two kinds of identity. The kubeconfig's token (`FakeKubeApi.token`) is the lab's operator: allowed everything
but what the world's `_rbac.yaml` denies (its 403s name KUBECONFIG_USER, the identity those rules have always
played). A service account's token (`FakeKubeApi.service_account_token`, mounted by the simulated kubelet into
pods that automount one) is `system:serviceaccount:NS:NAME`: once the world holds RBAC objects (e.g.
container/rbac.yaml, through `manifest()`), it gets exactly what they grant it, and `_rbac.yaml` may still deny
more. A world with no RBAC object at all does not model authorization: a service account is then treated as
the kubeconfig's user is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aksdiag.lab.kube.store import KubeWorld, Resource

MANIFEST = Path(__file__).resolve().parents[3] / "container" / "rbac.yaml"
"""The repository's RBAC manifest: `kubectl apply -f container/rbac.yaml` (present in a source checkout)."""
KUBECONFIG_USER = "system:serviceaccount:aksdiag:aksdiag"
"""The user the kubeconfig's token is named as in 403s (the worlds' `_rbac.yaml` rules model this account)."""
KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
SA_PREFIX = "system:serviceaccount:"


def manifest(path: str | Path = MANIFEST) -> list[dict[str, Any]]:
    """The documents of container/rbac.yaml (namespaces, service accounts, roles, bindings) for a world."""
    import yaml

    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"{source}: the RBAC manifest ships with aksdiag's source, not its wheel")
    return [d for d in yaml.safe_load_all(source.read_text()) if d]


def service_account_user(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def groups_of(user: str) -> tuple[str, ...]:
    """The groups the authenticator adds: a service account's, and everyone's `system:authenticated`."""
    if user.startswith(SA_PREFIX):
        namespace = user[len(SA_PREFIX) :].split(":", 1)[0]
        return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated")
    return ("system:authenticated",)


def models_rbac(world: KubeWorld) -> bool:
    """Whether the world holds any RBAC object (else it does not model authorization)."""
    from aksdiag.lab.kube.store import BY_KIND

    with world.lock:
        return any(world.objects[BY_KIND[kind]] for kind in KINDS)


def allows(
    world: KubeWorld, user: str, verb: str, resource: Resource, namespace: str, name: str = "", sub: str = ""
) -> bool:
    """Whether a ClusterRoleBinding (anywhere) or a RoleBinding in the request's namespace binds `user` to a rule
    that matches: API group, resource (`pods/log` for a subresource), verb, and `resourceNames` (which match only
    a request for one named object: never a list, a watch or a create)."""
    return any(_rule_allows(rule, verb, resource, name, sub) for rule in _rules_for(world, user, namespace))


def _rules_for(world: KubeWorld, user: str, namespace: str) -> Iterable[dict[str, Any]]:
    from aksdiag.lab.kube.store import BY_KIND

    with world.lock:
        objects = {kind: list(world.objects[BY_KIND[kind]].items()) for kind in KINDS}
    roles = {("Role", key): obj for key, obj in objects["Role"]}
    roles.update({("ClusterRole", key): obj for key, obj in objects["ClusterRole"]})
    bindings = [(b, "") for _, b in objects["ClusterRoleBinding"]]
    if namespace:  # a RoleBinding grants in its own namespace only: never a list across namespaces
        bindings += [(b, namespace) for (ns, _), b in objects["RoleBinding"] if ns == namespace]
    groups = (*groups_of(user), *world.groups.get(user, ()))
    for binding, scope in bindings:
        if not any(_subject_matches(s, user, groups) for s in binding.get("subjects") or []):
            continue
        ref = binding.get("roleRef") or {}
        kind = ref.get("kind", "")
        if kind not in ("Role", "ClusterRole") or (kind == "Role" and not scope):
            continue
        role = roles.get((kind, (scope if kind == "Role" else "", ref.get("name", ""))))
        yield from (role or {}).get("rules") or []


def _subject_matches(subject: dict[str, Any], user: str, groups: tuple[str, ...]) -> bool:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        return user == service_account_user(subject.get("namespace", ""), name)
    if kind == "User":
        return user == name
    if kind == "Group":
        return name in groups
    return False


def _rule_allows(rule: dict[str, Any], verb: str, resource: Resource, name: str, sub: str) -> bool:
    target = f"{resource.plural}/{sub}" if sub else resource.plural
    groups, resources, verbs = rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("verbs") or []
    names = rule.get("resourceNames") or []
    return (
        ("*" in groups or resource.group in groups)
        and ("*" in resources or target in resources)
        and ("*" in verbs or verb in verbs)
        and (not names or (bool(name) and name in names))
    )
