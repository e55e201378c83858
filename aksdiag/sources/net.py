"""Network source for the API server: TCP connects, TLS handshakes and HTTP health reads, all concurrent.

Every failure is a fact (refused, timed out, handshake error). Credentials (bearer token, client certificate)
leave the process only over a TLS connection verified against the cluster's CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import ssl
import tempfile
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

from aksdiag.facts import Endpoint, HttpNeed, HttpResult, TcpConnect, TcpConnectNeed, TlsNeed, TlsPeer
from aksdiag.sources import route

if TYPE_CHECKING:
    from aksdiag.settings import Settings
    from aksdiag.sources.kubeconfig import ApiServerConfig


_refused_off_loopback = route.refused
"""The one loopback guard (aksdiag.sources.route), under the name other modules imported it by."""


async def fetch(
    needs: list[Hashable],
    timeout: float,
    config: ApiServerConfig | None,
    settings: Settings | None = None,
    deadline: float | None = None,
) -> dict[Hashable, Any]:
    """`settings` route the packets (address map, loopback guard); each fact is keyed by the need as shown.
    `deadline` (time.monotonic()) bounds an exec plugin, which may need longer than one question's `timeout`."""
    http = None
    if any(isinstance(n, HttpNeed) for n in needs):  # importing httpx and building its client takes ~1 s on a busy
        http = await asyncio.to_thread(_Http, config, timeout, deadline)  # box: off the loop, other waits keep time
    jobs: list[Any] = []
    for shown in needs:
        need, refused = _routed(shown, settings)
        if refused:
            jobs.append(_not_sent(need, refused))
        elif isinstance(need, TcpConnectNeed):
            jobs.append(tcp_connect(need, timeout))
        elif isinstance(need, TlsNeed):
            jobs.append(tls_handshake(need, timeout))
        elif isinstance(need, HttpNeed) and http is not None:
            jobs.append(http.get(need))
    try:
        results = await asyncio.gather(*jobs)
    finally:
        if http is not None:
            await http.close()
    return dict(zip([n for n in needs if isinstance(n, TcpConnectNeed | TlsNeed | HttpNeed)], results, strict=True))


def _routed(need: Hashable, settings: Settings | None) -> tuple[Any, str | None]:
    """The need with the address its packets really go to (the address map), and why it may not be sent."""
    if not isinstance(need, TcpConnectNeed | TlsNeed | HttpNeed):
        return need, None
    real = route.destination(Endpoint(need.address, need.port), settings)
    if (real.host, real.port) != (need.address, need.port):
        need = dataclasses.replace(need, address=real.host, port=real.port)
    return need, route.refused(real.host, settings)


async def _not_sent(need: Hashable, why: str) -> Any:
    if isinstance(need, TcpConnectNeed):
        return TcpConnect("error", error=why)
    if isinstance(need, TlsNeed):
        return TlsPeer("refused", error=why)
    return HttpResult("not-sent", error=why)


async def tcp_connect(need: TcpConnectNeed, timeout: float) -> TcpConnect:
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(need.address, need.port), timeout)
    except asyncio.TimeoutError:
        return TcpConnect("timeout", error=f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return TcpConnect("refused", _ms(started), "connection refused")
    except OSError as e:
        return TcpConnect("error", _ms(started), e.strerror or str(e))
    elapsed = _ms(started)
    await _close(writer)
    return TcpConnect("open", elapsed)


async def tls_handshake(need: TlsNeed, timeout: float) -> TlsPeer:
    """One handshake that accepts any certificate, then the checks done here: the chain against the cluster's
    CA (a per-cluster CA signs the API server directly), never the name — SANs are judged by the probe. Without a
    CA of our own but asked to verify, the system store decides in a second, verifying handshake."""
    started = time.perf_counter()
    try:
        der = await _peer_certificate(need, _lenient_context(), timeout)
    except asyncio.TimeoutError:
        return TlsPeer("timeout", error=f"no TLS handshake within {timeout:g} s")
    except ConnectionRefusedError:
        return TlsPeer("refused", elapsed_ms=_ms(started), error="connection refused")
    except (OSError, ssl.SSLError) as e:
        return TlsPeer("error", elapsed_ms=_ms(started), error=f"{type(e).__name__}: {e}")
    elapsed = _ms(started)
    trusted: bool | None = None
    verify_error: str | None = None
    if need.verify and need.ca_pem:
        trusted, verify_error = _issued_by(der, need.ca_pem)
    elif need.verify:
        try:
            await _peer_certificate(need, _store_context(need.ca_file, _mtime(need.ca_file)), timeout)
            trusted = True
        except ssl.SSLCertVerificationError as e:
            trusted, verify_error = False, e.verify_message or str(e)
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
            verify_error = f"not verified: {e}"
    return _describe(der, trusted, verify_error, elapsed)


@functools.lru_cache(maxsize=1)
def _lenient_context() -> ssl.SSLContext:
    """One context for every handshake that accepts any certificate: building a context costs tens of ms (a
    default one loads the system store), which 30 endpoints' handshakes at once would spend blocking the loop."""
    lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lenient.check_hostname, lenient.verify_mode = False, ssl.CERT_NONE
    return lenient


@functools.lru_cache(maxsize=8)
def _store_context(ca_file: str, mtime: float) -> ssl.SSLContext:
    """The verifying context of the system store, or of `ca_file` (per file and modification time), built once."""
    store = ssl.create_default_context(cafile=ca_file or None)
    store.check_hostname = False
    return store


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime if path else 0.0
    except OSError:
        return 0.0


def _issued_by(der: bytes, ca_pem: str) -> tuple[bool, str | None]:
    """Whether the CA bundle's certificate that issued `der` really signed it."""
    from cryptography import x509

    leaf = x509.load_der_x509_certificate(der)
    cas = x509.load_pem_x509_certificates(ca_pem.encode())
    for ca in cas:
        if ca.subject != leaf.issuer:
            continue
        try:
            leaf.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature) as e:
            return (
                False,
                f"the signature does not verify against {ca.subject.rfc4514_string()} ({e or 'bad signature'})",
            )
        return True, None
    return False, f"certificate signed by unknown authority {leaf.issuer.rfc4514_string()}"


async def _peer_certificate(need: TlsNeed, context: ssl.SSLContext, timeout: float) -> bytes:
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(
            need.address, need.port, ssl=context, server_hostname=need.server_name, ssl_handshake_timeout=timeout
        ),
        timeout,
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        await _close(writer)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return bytes(der)


def _describe(der: bytes, trusted: bool | None, verify_error: str | None, elapsed_ms: float) -> TlsPeer:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns_names, ips = (), ()
    return TlsPeer(
        "ok", trusted, verify_error, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        dns_names=dns_names, ip_addresses=ips, not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(), elapsed_ms=elapsed_ms,
    )  # fmt: skip


class _Http:
    """Two HTTP clients for all health reads: an anonymous one that trusts anything (reachability only; trust is
    judged by the handshake) and one with the kubeconfig's credentials that trusts only the cluster's CA."""

    def __init__(self, config: ApiServerConfig | None, timeout: float, deadline: float | None = None) -> None:
        import httpx

        self.httpx, self.config, self.timeout = httpx, config, timeout
        self.deadline = deadline
        anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        anonymous.check_hostname, anonymous.verify_mode = False, ssl.CERT_NONE
        self.anonymous = httpx.AsyncClient(verify=anonymous, timeout=timeout, trust_env=False)
        self.authenticated: Any = None
        self.headers: dict[str, str] = {}
        self.why_not: str | None = None
        self._ready = asyncio.Lock()

    async def _credentials(self) -> None:
        """Build the authenticated client once (an exec plugin runs once, not per request)."""
        async with self._ready:
            if self.authenticated is not None or self.why_not is not None:
                return
            c = self.config
            if c is None or not (c.token or c.client_cert_pem or c.exec_command):
                self.why_not = "no credentials in the kubeconfig"
                return
            if not (c.token or c.client_cert_pem):
                from aksdiag.sources.kubeconfig import with_credentials

                plugin_s = 20.0 if self.deadline is None else min(20.0, max(0.05, self.deadline - time.monotonic()))
                filled, self.why_not = await asyncio.to_thread(with_credentials, c, plugin_s)
                if self.why_not:
                    return
                c = filled
            if c.token:
                self.headers["Authorization"] = f"Bearer {c.token}"
            self.why_not = _refused_proxy(c)
            if self.why_not:
                return
            try:
                context = client_tls_context(c, verify=True)
            except ssl.SSLError as e:
                self.why_not = f"the client certificate and key do not load: {e}"
                return
            try:
                self.authenticated = self.httpx.AsyncClient(
                    verify=context, timeout=self.timeout, trust_env=False, proxy=c.proxy_url
                )
            except ImportError as e:  # socks5:// needs the socksio package
                self.why_not = f"proxy-url {c.proxy_url}: {e}"

    async def get(self, need: HttpNeed) -> HttpResult:
        httpx = self.httpx
        client, headers = self.anonymous, {"Host": need.server_name, "Accept": "text/plain, application/json"}
        if need.authenticated:
            await self._credentials()
            if self.authenticated is None:
                return HttpResult("not-sent", error=self.why_not)
            client, headers = self.authenticated, headers | self.headers
        host = f"[{need.address}]" if ":" in need.address else need.address
        started = time.perf_counter()
        try:
            response = await client.get(
                f"https://{host}:{need.port}{need.path}", headers=headers, extensions={"sni_hostname": need.server_name}
            )
        except httpx.ConnectTimeout:
            return HttpResult("timeout", error=f"no connection within {self.timeout:g} s")
        except httpx.TimeoutException:
            return HttpResult("timeout", error=f"no answer within {self.timeout:g} s")
        except httpx.ConnectError as e:
            text = str(e)
            kind = "tls-error" if "CERTIFICATE" in text.upper() or "SSL" in text.upper() else "refused"
            return HttpResult(kind, elapsed_ms=_ms(started), error=text[:300])
        except httpx.HTTPError as e:
            return HttpResult("error", elapsed_ms=_ms(started), error=f"{type(e).__name__}: {e}"[:300])
        return HttpResult("ok", response.status_code, response.text[:4000], _ms(started))

    async def close(self) -> None:
        await self.anonymous.aclose()
        if self.authenticated is not None:
            await self.authenticated.aclose()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


def _refused_proxy(config: ApiServerConfig) -> str | None:
    """The loopback guard for the kubeconfig's proxy-url, where the packets go when there is one."""
    from urllib.parse import urlsplit

    host = urlsplit(config.proxy_url).hostname if config.proxy_url else None
    return _refused_off_loopback(host) if host else None


class _ServerNameContext(ssl.SSLContext):
    """Sends `server_name` as SNI and verifies the certificate against it, whatever host the connection was opened
    for: a kubeconfig's tls-server-name, also through a proxy's tunnel (where httpx ignores sni_hostname)."""

    server_name = ""

    def wrap_socket(
        self, sock: Any, server_side: bool = False, do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True, server_hostname: Any = None, session: Any = None,
    ) -> Any:  # fmt: skip
        name = self.server_name or server_hostname
        return super().wrap_socket(sock, server_side, do_handshake_on_connect, suppress_ragged_eofs, name, session)

    def wrap_bio(
        self, incoming: Any, outgoing: Any, server_side: bool = False, server_hostname: Any = None, session: Any = None
    ) -> Any:
        return super().wrap_bio(incoming, outgoing, server_side, self.server_name or server_hostname, session)


def client_tls_context(config: ApiServerConfig, verify: bool) -> ssl.SSLContext:
    """TLS for talking to the API server as the kubeconfig's user: the cluster's CA (or the system store), the
    name to verify (tls-server-name, else the host dialled), and the client certificate when there is one.
    `verify=False` only for a kubeconfig that says insecure-skip-tls-verify."""
    if config.tls_server_name:
        named = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)  # as ssl.create_default_context starts
        named.server_name = config.tls_server_name
        if verify and config.ca_pem:
            named.load_verify_locations(cadata=config.ca_pem)
        elif verify:
            named.load_default_certs()
        context: ssl.SSLContext = named
    elif verify:
        context = ssl.create_default_context(cadata=config.ca_pem) if config.ca_pem else ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    else:
        context.hostname_checks_common_name = False  # as Go's TLS (kubectl): the SANs alone name the server
    if config.client_cert_pem and config.client_key_pem:
        files = [_temp_pem(config.client_cert_pem), _temp_pem(config.client_key_pem)]
        try:
            context.load_cert_chain(files[0], files[1])
        finally:
            for f in files:
                _remove(f)
    return context


def _temp_pem(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(text)
        return f.name


def _remove(path: str) -> None:
    import os

    with contextlib.suppress(OSError):
        os.unlink(path)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
