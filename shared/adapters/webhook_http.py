"""The outbound webhooks' HTTP client: one POST, to an address checked after DNS resolution, and connected to
that very address (a second lookup could answer otherwise: DNS rebinding), TLS verified against the URL's host.

No redirect is followed (http.client never does; a 3xx is a failed attempt), each connect and read waits at
most TIMEOUT_SECONDS, and of a failing answer only an excerpt of EXCERPT_LIMIT characters is kept.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

from shared.domain.webhooks import is_loopback_host, is_public_address
from shared.services.webhook_ports import EXCERPT_LIMIT, SendResult

TIMEOUT_SECONDS: Final = 5.0
Resolver = Callable[..., list[Any]]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)[:EXCERPT_LIMIT]


class SafeWebhookSender:
    """Implements the WebhookSender port. `loopback_only`: the local stack's, which delivers to this machine
    (127.0.0.1, ::1, localhost) and nowhere else: a name is not even looked up unless it is localhost."""

    def __init__(
        self, *, loopback_only: bool = False, timeout: float = TIMEOUT_SECONDS, resolve: Resolver = socket.getaddrinfo
    ) -> None:
        self._loopback_only = loopback_only
        self._timeout = timeout
        self._resolve = resolve
        self._tls = ssl.create_default_context()

    def _allowed(self, address: str) -> bool:
        if self._loopback_only:
            return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
        return is_public_address(address)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        if parts.scheme not in {"https", "http"} or not host or (not https and not self._loopback_only):
            return SendResult(None, "refused: not an https URL")
        if self._loopback_only and not is_loopback_host(host):
            return SendResult(None, "refused: the local stack delivers to 127.0.0.1 and localhost only")
        try:
            found = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return SendResult(None, "the host name did not resolve")
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        # Every address the name has must be one we may reach: a name with one public and one private address
        # is refused, whichever the connection would have picked.
        if not addresses or not all(self._allowed(a) for a in addresses):
            return SendResult(None, "refused: the host resolves to a private, loopback or reserved address")
        target = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
        connection: http.client.HTTPConnection = (
            _PinnedHTTPSConnection(host, port, addresses[0], self._timeout, self._tls)
            if https
            else _PinnedHTTPConnection(host, port, addresses[0], self._timeout)
        )
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            if 200 <= response.status < 300:
                return SendResult(response.status)
            return SendResult(response.status, _printable(response.read(EXCERPT_LIMIT * 4).decode("utf-8", "replace")))
        except TimeoutError:
            return SendResult(None, f"no answer within {self._timeout:g} s")
        except ssl.SSLError as error:
            return SendResult(None, _printable(f"TLS failed: {error.reason or type(error).__name__}"))
        except (OSError, http.client.HTTPException) as error:
            return SendResult(None, _printable(f"connection failed: {type(error).__name__}"))
        finally:
            connection.close()
