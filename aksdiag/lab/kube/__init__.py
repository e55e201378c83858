"""A fake Kubernetes API server on loopback HTTPS, for the lab and the tests of everything that reads a cluster.

It serves a world: Kubernetes objects from YAML or JSON files (documents or `List`s). It answers like the real
API server for what aksdiag uses: discovery (`/api`, `/apis`, resource lists), get, list across or within a
namespace with `limit`/`continue` paging, label selectors (`=`, `!=`, `in`, `notin`, exists) and field selectors
(`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.podIP`, `status.phase`, `=`/`!=`, indexed so a
selector on 250,000 pods stays cheap), custom resources (NodeNetworkConfig), pod create/delete/log, 401 without
a bearer token it issued, 403 for the resources a world's `_rbac.yaml` denies (`deny: ["list pods", "get nodes"]`;
one object: `"get configmaps/coredns-custom"`; `allow: ["get configmaps/coredns"]` lets named objects through a
denial of their resource, as a Role's `resourceNames` does) and, for a service account's token, for what the
world's Roles, ClusterRoles and bindings do not grant (`rbac`; container/rbac.yaml's through `rbac.manifest()`),
watches, and kube-apiserver's /readyz and /livez (the demo's API server is this server). Pod creation is admitted
like the real server does: the namespace must exist and so must the pod's
service account (403 otherwise). Pod status changes come from whoever plays the kubelet (`aksdiag.lab.kubelet`)
through `KubeWorld.update`.

The parts: `store` (objects, indexes, the event window), `selection` (selectors), `protocol` (Status, discovery,
tables, routes), `rbac` (users and RBAC), `handler` (the HTTP verbs), `watch` (streams); this module runs the server.
"""

from __future__ import annotations

import base64
import secrets
import threading
from pathlib import Path

from aksdiag.lab.https import HttpsServer
from aksdiag.lab.kube.handler import make_handler
from aksdiag.lab.kube.protocol import route as _route
from aksdiag.lab.kube.rbac import KUBECONFIG_USER, service_account_user
from aksdiag.lab.kube.store import BY_KIND, BY_PATH, RESOURCES, WATCH_WINDOW, Event, KubeWorld, Resource
from aksdiag.lab.pki import Pki, server_context

__all__ = ["BY_KIND", "BY_PATH", "RESOURCES", "WATCH_WINDOW", "Event", "FakeKubeApi", "KubeWorld", "Resource", "_route"]

SERVER_NAMES = ["localhost", "kubernetes", "kubernetes.default.svc"]


class FakeKubeApi:
    """Serves a KubeWorld over HTTPS on 127.0.0.1; `kubeconfig(path)` writes a kubeconfig for it.

    `dns_names` and `ips` are added to the certificate's names: the demo's API server answers for the cluster's
    private FQDN and its private endpoint's address, as a real one does.
    """

    def __init__(
        self,
        world: KubeWorld,
        certdir: str | Path,
        token: str = "lab-token",
        dns_names: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
    ) -> None:
        self.world, self.token = world, token
        self.users: dict[str, str] = {token: KUBECONFIG_USER}
        """Bearer token → user: the kubeconfig's, and each service account's (service_account_token)."""
        self.requests: list[tuple[str, str]] = []
        self.requests_by: list[tuple[str, str, str]] = []
        """(user, method, path) of each authenticated request; the user is "" for the kubeconfig's token, else a
        service account's (a pod's own reads, apart from those of who runs `aksdiag pod`)."""
        self.closing = threading.Event()
        self.pki = Pki(Path(certdir))
        cert, key = self.pki.issue("kube-apiserver", [*dns_names, *SERVER_NAMES], [*ips, "127.0.0.1"])
        self._https = HttpsServer(make_handler(self), server_context(cert, key), name="aksdiag-fake-kube")
        self.port = self._https.port
        self.url = self._https.url

    def kubeconfig(
        self, path: str | Path, namespace: str = "default", server: str | None = None, token: str | None = None
    ) -> Path:
        """A kubeconfig for this server; `server` names it another way (an FQDN the address map sends here);
        `token` another user's (a service account's: service_account_token)."""
        import yaml

        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": "lab",
            "clusters": [{"name": "lab", "cluster": {
                "server": server or self.url,
                "certificate-authority-data": base64.b64encode(self.pki.ca_pem.encode()).decode()}}],
            "users": [{"name": "lab", "user": {"token": token or self.token}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab", "namespace": namespace}}],
        }  # fmt: skip
        out = Path(path)
        out.write_text(yaml.safe_dump(doc))
        return out

    def service_account_token(self, namespace: str, name: str) -> str:
        """A token that authenticates as `system:serviceaccount:NAMESPACE:NAME` (what the kubelet mounts into a
        pod): authorized by the world's RBAC objects, as aksdiag.lab.kube.rbac says."""
        user = service_account_user(namespace, name)
        known = next((t for t, u in self.users.items() if u == user and t != self.token), None)
        if known:
            return known
        token = f"sa.{namespace}.{name}.{secrets.token_hex(8)}"
        self.users[token] = user
        return token

    def close(self) -> None:
        self.closing.set()
        with self.world.changed:
            self.world.changed.notify_all()
        self._https.close()

    def __enter__(self) -> FakeKubeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
