"""Where the API server is and how to talk to it: a kubeconfig context, or the pod's in-cluster service account.

Read by the official Kubernetes client's loader (kubernetes/config/): its merger (KUBECONFIG's files, first file
wins per name, each entry's relative paths resolved against the file that holds it), its lookups, its
file-or-data rules and its in-cluster loader. On top of it, what kubectl does and that loader does not:
current-context from the first file that sets it, and exec plugins run only when a credential is asked for,
honouring interactiveMode, with their failure as a one-line reason (aksdiag.sources.kubeexec). Files only, no
network; every failure is an AksdiagError (exit 3) or, for an unknown context, a UsageError (exit 2).
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.sources.kubeexec import ExecCredential, exec_credential, exec_token, with_credentials

__all__ = ["ApiServerConfig", "ExecCredential", "exec_credential", "exec_token", "in_cluster", "load",
           "with_credentials"]  # fmt: skip

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
FIX = "pass --kubeconfig, run `az aks get-credentials`, or give --fqdn"
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


@dataclass(frozen=True)
class ApiServerConfig:
    server: str
    """https://host[:port] as the client uses it."""
    source: str
    """Which kubeconfig and context, or in-cluster."""
    ca_pem: str | None = None
    token: str | None = None
    client_cert_pem: str | None = None
    client_key_pem: str | None = None
    exec_command: tuple[str, ...] = ()
    exec_env: dict[str, str] = field(default_factory=dict)
    insecure: bool = False
    tls_server_name: str | None = None
    """The name to send as SNI and to verify the certificate against, when not the server's host."""
    proxy_url: str | None = None
    """http://, https:// or socks5:// proxy for the requests to this API server."""
    exec_api_version: str = ""
    exec_interactive_mode: str = "IfAvailable"
    """Never, IfAvailable (the terminal if stdin is one) or Always (a terminal is required)."""
    exec_cwd: str | None = None
    """The plugin runs in the directory of the kubeconfig that names it (relative commands resolve there)."""
    exec_install_hint: str = ""
    exec_cluster: dict[str, Any] | None = None
    """The cluster as the plugin sees it in KUBERNETES_EXEC_INFO, when the kubeconfig sets provideClusterInfo."""
    namespace: str = ""
    """The context's namespace (kubectl's default for namespaced requests; "" means `default`)."""

    @property
    def host(self) -> str:
        return urlsplit(self.server).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.server).port or 443


def load(path: str | None = None, context: str | None = None) -> ApiServerConfig:
    """The kubeconfig's context (default: the files of KUBECONFIG merged, or ~/.kube/config; current-context)."""
    official = _official()
    error = official.kube_config.ConfigException
    files = _files(path)
    merger = official.kube_config.KubeConfigMerger("")
    for file in files:
        _refuse_irregular(file)
        _read(merger, file, error)
    merged = merger.config
    if merged is None:
        raise AksdiagError(f"the kubeconfig {files[0]} is empty or not a kubeconfig", FIX)
    shown = str(files[0]) if len(files) == 1 else f"KUBECONFIG ({os.pathsep.join(map(str, files))})"
    name = context or next((c["current-context"] for c in merger.config_files.values() if c.get("current-context")), "")
    if not name:
        raise UsageError(f"{shown} has no current-context", "pass --context")
    try:
        return _config(official, merged, name, shown)
    except (error, KeyError, TypeError, AttributeError, ValueError) as e:  # the loader's checks; wrong shapes
        raise AksdiagError(f"{shown} is not a valid kubeconfig: {e}", FIX) from None


def _refuse_irregular(file: Path) -> None:
    """A FIFO, device or directory, or a file past the cap, stops here: the loader would block on or read it."""
    from aksdiag.sources import files

    try:
        files.check_regular(str(file), 16 * 2**20)
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.EFBIG):
            raise AksdiagError(f"the kubeconfig {file}: {e.strerror}", FIX) from None


def in_cluster(environ: dict[str, str] | None = None, account: Path | None = None) -> ApiServerConfig | None:
    """The pod's view of the API server (KUBERNETES_SERVICE_HOST/PORT and the service account), if in a pod. The
    account's directory is the kubelet's mount, or AKSDIAG_SERVICE_ACCOUNT (where the lab's kubelet mounts it)."""
    env = os.environ if environ is None else environ
    account = account or Path(env.get("AKSDIAG_SERVICE_ACCOUNT") or SERVICE_ACCOUNT)
    if not env.get("KUBERNETES_SERVICE_HOST"):
        return None
    official = _official()
    target = types.SimpleNamespace(api_key={})
    loader = official.incluster_config.InClusterConfigLoader(
        token_filename=str(account / "token"), cert_filename=str(account / "ca.crt"), try_refresh_token=False,
        environ=env,
    )  # fmt: skip
    try:
        loader.load_and_set(target)
        ca_pem = Path(target.ssl_ca_cert).read_text()
    except (official.kube_config.ConfigException, OSError) as e:
        raise AksdiagError(
            f"in-cluster config ({account}): {e}",
            "is the service account token mounted (automountServiceAccountToken)? Or pass --kubeconfig",
        ) from None
    return ApiServerConfig(
        server=target.host,
        source="in-cluster service account",
        ca_pem=ca_pem,
        token=str(target.api_key["BearerToken"]).split(" ", 1)[1].strip(),
    )


# ---------------------------------------------------------------- reading the merged kubeconfig


def _files(path: str | None) -> list[Path]:
    """--kubeconfig alone; else KUBECONFIG's files that exist, in order (kubectl skips missing ones)."""
    if path:
        return [Path(path).expanduser()]
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if not listed:
        return [Path.home() / ".kube" / "config"]
    existing = list(dict.fromkeys(p for p in listed if p.exists()))
    if not existing:
        raise AksdiagError(f"none of the kubeconfigs in KUBECONFIG exists ({os.pathsep.join(map(str, listed))})", FIX)
    return existing


def _read(merger: Any, file: Path, error: type[Exception]) -> None:
    import yaml

    try:
        merger.load_config(str(file))
    except OSError as e:
        raise AksdiagError(f"cannot read the kubeconfig {file}: {e.strerror or e}", FIX) from None
    except yaml.YAMLError as e:
        raise AksdiagError(f"the kubeconfig {file} is not valid YAML ({str(e).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise AksdiagError(f"the kubeconfig {file} is not text (not UTF-8)", FIX) from None
    except (error, AttributeError, TypeError, KeyError):  # empty, not a mapping, entries without names
        raise AksdiagError(f"the kubeconfig {file} is empty or not a kubeconfig", FIX) from None


def _config(official: Any, merged: Any, name: str, shown: str) -> ApiServerConfig:
    contexts = merged["contexts"]
    entry = contexts.get_with_name(name, safe=True)
    if entry is None:
        known = ", ".join(str(c["name"]) for c in contexts.value) or "none"
        raise UsageError(f"{shown} has no context named {name!r}", f"known: {known}")
    ctx = _mapping(entry, "context", f"{shown}: context {name!r}")
    if not isinstance(ctx.safe_get("cluster"), str):
        raise AksdiagError(f"{shown}: context {name!r} names no cluster (its cluster: is not a name)", FIX)
    cluster_entry = merged["clusters"].get_with_name(ctx["cluster"], safe=True)
    if cluster_entry is None:
        raise AksdiagError(f"{shown}: context {name!r} names the cluster {ctx['cluster']!r}, which is not there", FIX)
    cluster = _mapping(cluster_entry, "cluster", f"{shown}: cluster {ctx['cluster']!r}")
    user_name = ctx.safe_get("user")
    if user_name is not None and not isinstance(user_name, str):
        raise AksdiagError(f"{shown}: context {name!r} has a user: that is not a name", FIX)
    user_entry = merged["users"].get_with_name(user_name, safe=True) if user_name else None
    user = (
        _mapping(user_entry, "user", f"{shown}: user {user_name!r}")
        if user_entry is not None and user_entry.safe_get("user")
        else None
    )
    server = _server(cluster.safe_get("server"), shown, ctx["cluster"])
    insecure = cluster.safe_get("insecure-skip-tls-verify")
    if insecure is not None and not isinstance(insecure, bool):
        raise AksdiagError(f"{shown}: insecure-skip-tls-verify is {insecure!r}, not true or false", FIX)
    for key in ("tls-server-name", "proxy-url"):
        if cluster.safe_get(key) is not None and not isinstance(cluster.safe_get(key), str):
            raise AksdiagError(f"{shown}: the cluster {ctx['cluster']!r} has a {key} that is not a string", FIX)
    where = _base(cluster_entry.path)
    user_where = _base(user_entry.path) if user_entry is not None else where
    data = official.kube_config.FileOrData
    exec_fields = _exec(official, user, cluster, user_where, name) if user is not None else {}
    return ApiServerConfig(
        server=server,
        source=f"{entry.path} context {name}",
        ca_pem=_pem(data(cluster, "certificate-authority", file_base_path=where), "certificate-authority"),
        token=_token(data, user, user_where),
        client_cert_pem=_pem(data(user, "client-certificate", file_base_path=user_where), "client-certificate"),
        client_key_pem=_pem(data(user, "client-key", file_base_path=user_where), "client-key"),
        insecure=bool(insecure),
        tls_server_name=cluster.safe_get("tls-server-name") or None,
        proxy_url=_proxy(cluster.safe_get("proxy-url"), shown),
        namespace=ctx.safe_get("namespace") if isinstance(ctx.safe_get("namespace"), str) else "",
        **exec_fields,
    )


def _mapping(parent: Any, key: str, where: str) -> Any:
    """parent[key] when it is a mapping (a ConfigNode); anything else is a kubeconfig of the wrong shape."""
    value = parent.safe_get(key)
    if not isinstance(value, dict):
        kind = "missing" if value is None else f"a {type(value).__name__} ({str(value)[:40]!r})"
        raise AksdiagError(f"{where}: its {key}: is {kind}, not a mapping", FIX)
    return parent[key]


def _server(value: Any, shown: str, cluster: str) -> str:
    """The cluster's server as an http(s) URL with a host and a valid port (kubectl refuses the same)."""
    if not value:
        raise AksdiagError(f"{shown}: the cluster {cluster!r} has no server", FIX)
    server = str(value).rstrip("/")
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError as e:
        raise AksdiagError(
            f"{shown}: the cluster {cluster!r} has a server {server!r} that is not a URL ({e})", FIX
        ) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AksdiagError(f"{shown}: the cluster {cluster!r} has a server {server!r} that is not an https:// URL", FIX)
    return server


def _base(path: str | None) -> str:
    """The directory relative paths in an entry resolve against: that of the file the entry came from."""
    return os.path.abspath(os.path.dirname(path)) if path else ""


def _pem(item: Any, key: str) -> str | None:
    """`key`-data (base64) or the file `key` names, as text."""
    try:
        encoded = item.as_data()
    except OSError as e:
        raise AksdiagError(
            f"cannot read the {key} file {e.filename} that the kubeconfig names: {e.strerror or e}", FIX
        ) from None
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AksdiagError(f"{key}-data in the kubeconfig is not base64 PEM") from None


def _token(data: Any, user: Any, where: str) -> str | None:
    """token, or the file tokenFile names (kubectl trims it: a token file ends with a newline)."""
    try:
        token = data(user, "tokenFile", "token", file_base_path=where, base64_file_content=False).as_data()
    except OSError as e:
        raise AksdiagError(f"cannot read the tokenFile {e.filename} that the kubeconfig names: {e.strerror}") from None
    return (str(token).strip() or None) if token else None


def _proxy(url: str | None, shown: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise AksdiagError(f"{shown}: proxy-url {url!r} is not an http://, https:// or socks5:// URL with a host")
    return str(url)


def _exec(official: Any, user: Any, cluster: Any, where: str, context: str) -> dict[str, Any]:
    """The exec plugin's fields, checked by the official ExecProvider (command and apiVersion are required)."""
    spec = user.safe_get("exec")
    if not spec:
        return {}
    node = _mapping(user, "exec", f"context {context!r}: user")
    env = spec.get("env") or []
    if not isinstance(env, list) or not all(isinstance(e, dict) and "name" in e and "value" in e for e in env):
        raise AksdiagError(f"context {context!r}: exec env is not a list of name/value pairs", FIX)
    provider = official.exec_provider.ExecProvider(node, where, cluster)
    mode = node.safe_get("interactiveMode") or "IfAvailable"
    if mode not in INTERACTIVE_MODES:
        raise AksdiagError(
            f"context {context!r}: exec interactiveMode {mode!r} is not one of {', '.join(INTERACTIVE_MODES)}"
        )
    return {
        "exec_command": tuple(str(a) for a in provider.args),
        "exec_env": {str(e["name"]): str(e["value"]) for e in spec.get("env") or []},
        "exec_api_version": str(provider.api_version),
        "exec_interactive_mode": mode,
        "exec_cwd": where or None,
        "exec_install_hint": str(node.safe_get("installHint") or "").strip(),
        "exec_cluster": _cluster_info(cluster) if provider.cluster is not None else None,
    }


def _cluster_info(cluster: Any) -> dict[str, Any]:
    """The cluster as client-go hands it to a plugin (ExecCredential spec.cluster)."""
    info = {key: cluster.safe_get(key) for key in ("server", "tls-server-name", "insecure-skip-tls-verify",
                                                   "certificate-authority-data", "proxy-url")}  # fmt: skip
    for extension in cluster.safe_get("extensions") or []:
        if extension.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = extension.get("extension")
    return {k: v for k, v in info.items() if v is not None}


# ---------------------------------------------------------------- the official loader, imported lightly

_PRIVATE = "aksdiag.sources._kubernetes_config"
_lock = threading.Lock()
_modules: types.SimpleNamespace | None = None


class _NotLoaded:
    """Stands for the API client and OAuth classes the loader imports for code paths aksdiag never takes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("aksdiag loads kubeconfigs without the Kubernetes API client or OAuth refresh")


def _official() -> types.SimpleNamespace:
    """kubernetes/config's kube_config, incluster_config and exec_provider modules.

    Any `import kubernetes.…` first runs kubernetes/__init__.py, which imports the whole API client, the dynamic
    client (jsonschema), watch and stream (websocket): ~0.5 s on the development machine, more than the budget
    of a whole `aksdiag whois`. So unless the client is already imported, the loader's own files are loaded as a
    private package (_PRIVATE) while the names they import only for paths aksdiag never takes stand in, unless
    already imported: kubernetes.client (ApiClient, Configuration: we pass our own target object),
    requests_oauthlib and oauthlib.oauth2 (OIDC token refresh), urllib3 (basic auth), google.auth (GCP). The
    stand-ins leave sys.modules when done, so a later `import kubernetes` or `import urllib3` is the real thing."""
    global _modules
    with _lock:
        if _modules is None:
            if "kubernetes" in sys.modules:
                _modules = _import_real()
            else:
                try:
                    _modules = _import_private()
                except AksdiagError:
                    raise
                except Exception:  # a kubernetes release whose loader imports more: slower, still right
                    sys.modules.pop(_PRIVATE, None)
                    _modules = _import_real()
        return _modules


def _import_real() -> types.SimpleNamespace:
    import kubernetes.config.exec_provider as exec_provider
    import kubernetes.config.incluster_config as incluster_config
    import kubernetes.config.kube_config as kube_config

    return types.SimpleNamespace(
        kube_config=kube_config, incluster_config=incluster_config, exec_provider=exec_provider
    )


def _import_private() -> types.SimpleNamespace:
    import importlib
    import importlib.util

    spec = importlib.util.find_spec("kubernetes")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise AksdiagError("the kubernetes package is not installed", "pip install kubernetes (aksdiag needs it)")
    package = types.ModuleType(_PRIVATE)
    package.__path__ = [os.path.join(spec.submodule_search_locations[0], "config")]
    sys.modules[_PRIVATE] = package
    client = types.ModuleType("kubernetes.client")
    oauth = types.ModuleType("requests_oauthlib")
    client.ApiClient = client.Configuration = oauth.OAuth2Session = _NotLoaded  # type: ignore[attr-defined]  # set on a bare module
    stand_ins: dict[str, Any] = {"kubernetes.client": client, "requests_oauthlib": oauth,
                                 "oauthlib.oauth2": types.ModuleType("oauthlib.oauth2"),
                                 "urllib3": types.ModuleType("urllib3"), "google.auth": None}  # fmt: skip
    inserted = [name for name in stand_ins if name not in sys.modules]  # what is already imported costs nothing
    try:
        sys.modules.update({name: stand_ins[name] for name in inserted})
        exec_provider = importlib.import_module(f"{_PRIVATE}.exec_provider")
        sys.modules["kubernetes.config.exec_provider"] = exec_provider  # kube_config imports it by its full name
        inserted.append("kubernetes.config.exec_provider")
        kube_config = importlib.import_module(f"{_PRIVATE}.kube_config")
        incluster_config = importlib.import_module(f"{_PRIVATE}.incluster_config")
    finally:
        for name in inserted:
            sys.modules.pop(name, None)
    return types.SimpleNamespace(
        kube_config=kube_config, incluster_config=incluster_config, exec_provider=exec_provider
    )
