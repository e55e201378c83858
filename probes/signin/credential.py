"""What the kubeconfig signs in with, read once from its ApiServerConfig: the kind of credential, kubelogin's
login mode, tenant and server id, and a static token's claims (never the token itself: only what a verdict needs).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aksdiag.sources.kubeconfig import ApiServerConfig

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The AKS Entra server application: the audience of tokens an AKS-managed Entra ID cluster accepts."""
KUBELOGIN_DEFAULT_LOGIN = "devicecode"
"""What `kubelogin get-token` does without --login, and what `az aks get-credentials` writes."""
PROMPTING_LOGINS = ("devicecode", "interactive")
"""Logins that need a person: a code to enter in a browser, or a browser window."""
CLAIMS = ("tid", "aud", "exp", "iss", "upn", "preferred_username", "unique_name", "oid", "sub")
"""The claims of a static token kept for judging (who, which tenant and audience, until when)."""


@dataclass(frozen=True)
class Credential:
    kind: str
    """exec, token, client-certificate, or none."""
    source: str = ""
    plugin: str = ""
    """The exec plugin's file name (kubelogin, az, aws …)."""
    login: str = ""
    """kubelogin's login mode (devicecode, azurecli, spn, msi, workloadidentity, interactive, ropc, azd)."""
    tenant_id: str = ""
    server_id: str = ""
    interactive_mode: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    """A static JWT's claims (tid, aud, exp …); empty for an opaque token or none."""

    @property
    def kubelogin(self) -> bool:
        return self.plugin == "kubelogin"

    @property
    def local(self) -> bool:
        """A local account's credential: a client certificate, or a static token that is no JWT (AKS's clusterUser
        tokens). A service account's token (a JWT) is not one: disableLocalAccounts leaves those working."""
        return self.kind == "client-certificate" or (self.kind == "token" and not self.claims)

    @property
    def shown(self) -> str:
        """How a sentence names it: `kubelogin (--login devicecode)`, `a client certificate`, `a static token`."""
        if self.kind == "exec":
            return f"the exec plugin {self.plugin}" + (f" (--login {self.login})" if self.login else "")
        if self.kind == "client-certificate":
            return "a client certificate"
        if self.claims.get("tid"):
            return "a static Entra ID token"
        return "a static bearer token"

    @property
    def who(self) -> str:
        """The user a static token names, when it says."""
        for key in ("upn", "preferred_username", "unique_name", "oid", "sub"):
            if self.claims.get(key):
                return str(self.claims[key])
        return ""


def of(config: ApiServerConfig) -> Credential:
    """The credential the kubeconfig's user signs in with (a token wins over an exec plugin, as client-go does)."""
    if config.token:
        return Credential("token", config.source, claims=claims_of(config.token))
    if config.client_cert_pem and config.client_key_pem:
        return Credential("client-certificate", config.source)
    if config.exec_command:
        plugin = Path(config.exec_command[0]).name
        args = list(config.exec_command[1:])
        is_kubelogin = plugin == "kubelogin"
        login = _arg(args, "--login", "-l") or (KUBELOGIN_DEFAULT_LOGIN if is_kubelogin else "")
        return Credential(
            "exec", config.source, plugin, login if is_kubelogin else "",
            tenant_id=_arg(args, "--tenant-id", "-t") if is_kubelogin else "",
            server_id=_arg(args, "--server-id") if is_kubelogin else "",
            interactive_mode=config.exec_interactive_mode,
        )  # fmt: skip
    return Credential("none", config.source)


def _arg(args: list[str], *names: str) -> str:
    """The value of `--name value` or `--name=value` (the last one given wins, as pflag does)."""
    found = ""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                found = args[i + 1]
            elif arg.startswith(f"{name}="):
                found = arg.split("=", 1)[1]
    return found


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload claims that a verdict needs; {} for a token that is not a JWT (opaque, a service account's
    legacy secret is a JWT too: its claims hold no tid). The signature is not checked: only the API server can."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {k: payload[k] for k in CLAIMS if k in payload}
