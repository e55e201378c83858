"""Exec credential plugins (kubelogin, az, aws …): run one when a credential is asked for, as kubectl does.

The plugin gets KUBERNETES_EXEC_INFO and, per the kubeconfig's interactiveMode, the terminal: Never gives it
none, IfAvailable gives it stdin (and stderr for its prompts, as kubelogin's device code prints) when stdin is
a terminal, Always refuses to run without one. It answers an ExecCredential with a token or a client
certificate and key. Every failure is a one-line reason, never an exception: the caller reports it.

A plugin's output never reaches a reason, a report or a log: plugins print refresh tokens, client secrets and
device codes on stderr, and a malformed answer on stdout may be a credential. Without a terminal its stderr goes to
/dev/null; a reason says what happened (the exit code, "printed no ExecCredential", the time limit) and how to see
the plugin's own words (run it by hand).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aksdiag.sources.kubeconfig import ApiServerConfig

INTERACTIVE_TIMEOUT = 300.0
"""A person completing a login in a browser (device code) gets this long."""
BY_HAND = "its output is not copied here, as plugins print secrets: `kubectl get nodes` runs it and shows what it says"
LOG_IN_FIRST = "log in first without a prompt, e.g. `kubelogin convert-kubeconfig -l azurecli` after `az login`"


@dataclass(frozen=True)
class ExecCredential:
    """What a plugin answered: a bearer token, or a client certificate and its key (PEM)."""

    token: str | None = None
    client_cert_pem: str | None = None
    client_key_pem: str | None = None
    expires: str | None = None


def exec_credential(
    config: ApiServerConfig, timeout: float = 20.0, terminal: bool | None = None
) -> tuple[ExecCredential | None, str | None]:
    """Run the kubeconfig's exec plugin: (credential, None), (None, why it failed), or (None, None) without one.

    `terminal`: whether the plugin may have this process's terminal (default: whether stdin is one)."""
    if not config.exec_command:
        return None, None
    name = Path(config.exec_command[0]).name
    has_terminal = _stdin_is_terminal() if terminal is None else terminal
    mode = config.exec_interactive_mode
    if mode == "Always" and not has_terminal:
        return None, (
            f"exec plugin {name} needs a terminal (interactiveMode: Always) and stdin is not one: "
            f"run aksdiag from a terminal, or {LOG_IN_FIRST}"
        )
    interactive = has_terminal and mode != "Never"
    info: dict[str, Any] = {"apiVersion": config.exec_api_version, "kind": "ExecCredential",
                            "spec": {"interactive": interactive}}  # fmt: skip
    if config.exec_cluster is not None:
        info["spec"]["cluster"] = config.exec_cluster
    limit = INTERACTIVE_TIMEOUT if interactive else timeout
    no_terminal = (
        f" (it had no terminal: if it prompts for a login, as kubelogin's device code does, run aksdiag from a "
        f"terminal, or {LOG_IN_FIRST})"
        if mode == "IfAvailable" and not has_terminal
        else ""
    )
    try:
        proc = subprocess.run(
            list(config.exec_command), cwd=config.exec_cwd, text=True, timeout=limit, check=False,
            env={**os.environ, **config.exec_env, "KUBERNETES_EXEC_INFO": json.dumps(info)},
            stdin=None if interactive else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=None if interactive else subprocess.DEVNULL,
        )  # fmt: skip
    except FileNotFoundError:
        hint = _one_line(config.exec_install_hint)
        return None, f"exec plugin {config.exec_command[0]} is not installed" + (f": {hint}" if hint else "")
    except subprocess.TimeoutExpired:
        return None, f"exec plugin {name} gave no credential within {limit:g} s{no_terminal}"
    except OSError as e:
        return None, f"exec plugin {config.exec_command[0]} cannot run: {e.strerror or e}"
    if proc.returncode != 0:
        return None, f"exec plugin {name} exited {proc.returncode} ({BY_HAND}){no_terminal}"
    return _answer(proc.stdout, config.exec_api_version, name)


def exec_token(config: ApiServerConfig, timeout: float = 20.0) -> tuple[str | None, str | None]:
    """Run the exec plugin for a token: (token, None) or (None, why not)."""
    credential, why = exec_credential(config, timeout)
    if credential is not None and not credential.token:
        return None, f"exec plugin {Path(config.exec_command[0]).name} answered a client certificate, not a token"
    return (credential.token if credential else None), why


def with_credentials(config: ApiServerConfig, timeout: float = 20.0) -> tuple[ApiServerConfig, str | None]:
    """The config with its exec plugin's answer in place of the plugin (token or client certificate), or the
    config unchanged and why the plugin gave nothing."""
    credential, why = exec_credential(config, timeout)
    if credential is None:
        return config, why
    return replace(
        config,
        token=credential.token or config.token,
        client_cert_pem=credential.client_cert_pem or config.client_cert_pem,
        client_key_pem=credential.client_key_pem or config.client_key_pem,
        exec_command=(),
    ), None


def _answer(stdout: str, api_version: str, name: str) -> tuple[ExecCredential | None, str | None]:
    """The ExecCredential a plugin printed, checked as client-go checks it."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return None, f"exec plugin {name} printed no ExecCredential (not JSON)"
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential" or not isinstance(doc.get("status"), dict):
        return None, f"exec plugin {name} printed no ExecCredential"
    if doc.get("apiVersion") != api_version:
        return None, f"exec plugin {name} answered apiVersion {doc.get('apiVersion')!r}, not {api_version!r}"
    status = doc["status"]
    token, cert, key = status.get("token"), status.get("clientCertificateData"), status.get("clientKeyData")
    expires = status.get("expirationTimestamp")
    if token:
        return ExecCredential(token=str(token), expires=expires), None
    if cert and key:
        return ExecCredential(client_cert_pem=str(cert), client_key_pem=str(key), expires=expires), None
    if cert or key:
        return None, f"exec plugin {name} answered a client certificate without its key (or a key alone)"
    return None, f"exec plugin {name} printed an ExecCredential with neither a token nor a client certificate"


_terminal_taken = False
"""Set while a full-screen face (the TUI) owns the terminal: no plugin may have it then."""


def terminal_taken(taken: bool = True) -> None:
    """The TUI holds the terminal from here on (or gives it back): exec plugins run without it."""
    global _terminal_taken
    _terminal_taken = taken


def _stdin_is_terminal() -> bool:
    if _terminal_taken:
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]
