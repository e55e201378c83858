"""The documents and paths of the Kubernetes API that the fake server speaks: Status errors, discovery
(`/api`, `/apis`, resource lists), server-side tables (what kubectl asks for) and the route of a path."""

from __future__ import annotations

from typing import Any

from aksdiag.lab.kube.rbac import KUBECONFIG_USER
from aksdiag.lab.kube.store import BY_PATH, RESOURCES, Resource


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}  # fmt: skip


def forbidden(
    resource: Resource, verb: str, namespace: str, name: str = "", sub: str = "",
    user: str = KUBECONFIG_USER,
) -> dict[str, Any]:  # fmt: skip
    """The 403 kube-apiserver's authorizer answers (apierrors.NewForbidden): the object's name, when the request
    names one, before "is forbidden", and in the details with the group and resource; `user` is who asked."""
    qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
    what = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    target = f"{resource.plural}/{sub}" if sub else resource.plural
    message = (f'{what} is forbidden: User "{user}" cannot {verb} resource '
               f'"{target}" in API group "{resource.group}" {scope}')  # fmt: skip
    details = {k: v for k, v in (("name", name), ("group", resource.group), ("kind", resource.plural)) if v}
    return {**status(403, "Forbidden", message), "details": details}


def resource_list(group_version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": [
            {"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced, "kind": r.kind,
             "verbs": ["get", "list", "watch", "create", "delete"] if r.plural == "pods" else ["get", "list", "watch"]}
            for r in RESOURCES if r.group_version == group_version
        ] + ([{"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}]
             if group_version == "v1" else []),
    }  # fmt: skip


def groups() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group:
            groups.setdefault(r.group, [])
            if r.version not in groups[r.group]:
                groups[r.group].append(r.version)
    return {
        "kind": "APIGroupList", "apiVersion": "v1",
        "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in groups.items()
        ],
    }  # fmt: skip


def table(resource: Resource, objects: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Server-side printing (what kubectl asks for): pods get kubectl's columns, other kinds name and age."""

    def column(name: str, priority: int = 0, kind: str = "string") -> dict[str, Any]:
        return {"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": "",
                "priority": priority}  # fmt: skip

    if resource.kind == "Pod":
        columns = [column("Name"), column("Ready"), column("Status"), column("Restarts", kind="integer"),
                   column("Age"), column("IP", 1), column("Node", 1), column("Nominated Node", 1),
                   column("Readiness Gates", 1)]  # fmt: skip

        def cells(o: dict[str, Any]) -> list[Any]:
            status, spec = o.get("status") or {}, o.get("spec") or {}
            total = len(spec.get("containers") or [])
            containers = status.get("containerStatuses") or []
            ready = sum(1 for c in containers if c.get("ready"))
            restarts = sum(int(c.get("restartCount") or 0) for c in containers)
            waiting = [w.get("reason") for c in containers if (w := (c.get("state") or {}).get("waiting"))]
            shown = next((r for r in waiting if r), None) or status.get("phase", "Unknown")  # CrashLoopBackOff…
            return [o["metadata"]["name"], f"{ready}/{total}", shown, restarts, "<unknown>",
                    status.get("podIP") or "<none>", spec.get("nodeName") or "<none>", "<none>", "<none>"]  # fmt: skip
    else:
        columns = [column("Name"), column("Age")]

        def cells(o: dict[str, Any]) -> list[Any]:
            return [o["metadata"]["name"], "<unknown>"]

    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns,
        "rows": [
            {"cells": cells(o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                           "metadata": o["metadata"]}}
            for o in objects
        ],
    }  # fmt: skip


def route(parts: list[str]) -> tuple[Resource, str, str, str] | None:
    """(resource, namespace, name, subresource) of an object or collection path."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0]))
    if resource is None:
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return resource, namespace, name, sub
