"""API Gateway (REST API, Lambda proxy integration) in front of the in-process handlers.

Requests are matched against `shared.routes.ROUTES`, turned into the proxy event API Gateway sends,
handed to the function's `lambda_handler`, and its answer is turned back into HTTP, with the same
quirks as API Gateway:
- an unknown path, or a method the path does not have, is 403 `{"message": "Missing Authentication
  Token"}` (API Gateway does not tell "no such route" from "not allowed");
- `iam` routes need a valid SigV4 signature (`local.sigv4`), else 403 with API Gateway's messages;
- `path` keeps its percent-encoding, path and query parameters are decoded, empty parameter maps are
  `null`; bodies of a binary media type (shared.routes.BINARY_MEDIA_TYPES: every type) and any that are not
  UTF-8 text arrive base64-encoded with `isBase64Encoded`;
- a handler that raises, or answers something that is not a proxy response, is 502 `{"message":
  "Internal server error"}`.
`/_local/...` (no auth) belongs to the local stack only, see `local.control`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.config import ACCOUNT_ID, HOST
from local.lambda_runtime import FunctionNotFound, FunctionResolver
from local.sigv4 import CallerIdentity, ReceivedRequest, SignatureRejected, verify_request
from shared.clock import wall_clock_now
from shared.routes import BINARY_MEDIA_TYPES, ROUTES, Route

logger = logging.getLogger("local.api")

STAGE = "local"
API_ID = "local"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
HANDLER_TIMEOUT_S = 29.0  # API Gateway's integration timeout

_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "application/xml", "text/")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # raw, percent-encoded
    query: str  # raw, without "?"
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), *headers],
        json.dumps(payload, default=str, indent=None).encode(),
    )


# -- routing -----------------------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path.split("/")


def match_route(method: str, path: str, routes: Sequence[Route] = ROUTES) -> tuple[Route, dict[str, str]] | None:
    """The route for this method and raw path, and its (decoded) path parameters."""
    segments = _segments(path)
    for route in routes:
        if route.method != method:
            continue
        template = _segments(route.path)
        if len(template) != len(segments):
            continue
        parameters: dict[str, str] = {}
        for expected, actual in zip(template, segments, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                if not actual:
                    break
                parameters[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                break
        else:
            return route, parameters
    return None


# -- request -> proxy event --------------------------------------------------------------------------------


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith(_TEXT_TYPES) or media_type.endswith(("+json", "+xml"))


def _is_binary(content_type: str | None) -> bool:
    """Whether API Gateway treats a body of this type as binary (shared.routes.BINARY_MEDIA_TYPES)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    for pattern in BINARY_MEDIA_TYPES:
        kind, _, subtype = pattern.partition("/")
        if kind == "*" or (media_type.partition("/")[0] == kind and subtype in ("*", media_type.partition("/")[2])):
            return True
    return False


def _encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if _is_text(content_type) and not _is_binary(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    found = None
    for key, value in headers:
        if key.lower() == name:
            found = value
    return found


def build_event(
    route: Route,
    request: HttpRequest,
    path_parameters: dict[str, str],
    caller: CallerIdentity | None,
    *,
    request_id: str,
    received_at: datetime,
) -> dict[str, Any]:
    headers = list(request.headers)
    present = {name.lower() for name, _ in headers}
    host = _header(headers, "host") or HOST
    port = host.rpartition(":")[2] if ":" in host else "80"
    # What API Gateway adds on its way in.
    for name, value in (
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "http"),
        ("X-Amzn-Trace-Id", f"Root=1-{int(received_at.timestamp()):08x}-{secrets.token_hex(12)}"),
    ):
        if name.lower() not in present:
            headers.append((name, value))
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)

    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    body, is_base64 = _encode_body(request.body, _header(headers, "content-type"))
    identity: dict[str, Any] = {
        "accessKey": None,
        "accountId": None,
        "apiKey": None,
        "apiKeyId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": None,
        "userAgent": _header(headers, "user-agent"),
        "userArn": None,
    }
    if caller is not None:
        identity.update(
            accessKey=caller.access_key,
            accountId=caller.account_id,
            caller=caller.caller,
            user=caller.user,
            userArn=caller.user_arn,
        )
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": route.path,
            "stage": STAGE,
            "domainName": host.rpartition(":")[0] if ":" in host else host,
            "domainPrefix": API_ID,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": request.protocol,
            "identity": identity,
            "resourcePath": route.path,
            "httpMethod": request.method,
            "path": request.path,
            "requestTime": received_at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(received_at.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


# -- proxy response -> HTTP --------------------------------------------------------------------------------


class BadProxyResponse(ValueError):
    pass


def to_http_response(result: Any) -> HttpResponse:
    """A Lambda proxy integration response -> HTTP, merging `headers` into `multiValueHeaders`."""
    if not isinstance(result, dict):
        raise BadProxyResponse(f"the handler returned {type(result).__name__}, not a proxy response")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise BadProxyResponse(f"statusCode {status!r} is not an HTTP status")

    merged: dict[str, tuple[str, list[str]]] = {}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if not isinstance(values, list):
            raise BadProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        merged.setdefault(name.lower(), (name, []))[1].extend(str(value) for value in values)
    for name, value in (result.get("headers") or {}).items():
        _, values = merged.setdefault(name.lower(), (name, []))
        if str(value) not in values:
            values.append(str(value))
    headers = [(name, value) for name, values in merged.values() for value in values]
    if "content-type" not in merged:
        headers.append(("Content-Type", "application/json"))

    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise BadProxyResponse("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise BadProxyResponse("isBase64Encoded but the body is not base64") from error
    else:
        data = body.encode("utf-8")
    return HttpResponse(status, headers, data)


# -- the gateway -------------------------------------------------------------------------------------------

LocalControlHandler = Callable[[HttpRequest], HttpResponse]


class ApiGateway:
    def __init__(
        self,
        resolver: FunctionResolver,
        local_control: LocalControlHandler | None = None,
        routes: Sequence[Route] = ROUTES,
    ) -> None:
        self._resolver = resolver
        self._local_control = local_control
        self._routes = routes

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response, and how to name the request in logs (the route template: no tokens)."""
        if request.path == "/_local" or request.path.startswith("/_local/"):
            if self._local_control is None:
                return json_response(404, {"message": "no local control routes"}), request.path
            return self._local_control(request), request.path

        request_id = str(uuid.uuid4())
        extra = [("x-amzn-RequestId", request_id)]
        matched = match_route(request.method, request.path, self._routes)
        if matched is None:
            return (
                json_response(
                    403,
                    {"message": "Missing Authentication Token"},
                    [*extra, ("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
                ),
                "<no route>",
            )
        route, path_parameters = matched
        label = f"{route.path} -> {route.function}"
        if len(request.body) > MAX_BODY_BYTES:
            return json_response(413, {"message": "Request Too Long"}, extra), label

        caller = None
        if route.auth == "iam":
            try:
                caller = verify_request(
                    ReceivedRequest(request.method, request.path, request.query, request.headers, request.body)
                )
            except SignatureRejected as rejected:
                logger.info("%s %s: signature rejected (%s)", request.method, route.path, rejected.error_type)
                return (
                    json_response(
                        403, {"message": rejected.message}, [*extra, ("x-amzn-ErrorType", rejected.error_type)]
                    ),
                    label,
                )

        event = build_event(
            route, request, path_parameters, caller, request_id=request_id, received_at=wall_clock_now()
        )
        try:
            result = self._resolver.invoke(route.function, event, timeout_s=HANDLER_TIMEOUT_S)
            response = to_http_response(result)
        except FunctionNotFound:
            logger.error("functions/%s/handler.py does not exist (yet)", route.function)
            return json_response(502, {"message": "Internal server error"}, extra), label
        except BadProxyResponse as error:
            logger.error("%s answered a malformed proxy response: %s", route.function, error)
            return json_response(502, {"message": "Internal server error"}, extra), label
        except Exception:
            logger.exception("%s raised", route.function)
            return json_response(502, {"message": "Internal server error"}, extra), label
        response.headers.extend(extra)
        return response, label


# -- HTTP plumbing -----------------------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ApiServer

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        started = time.monotonic()
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        request = HttpRequest(
            method=self.command,
            path=path or "/",
            query=query.split("#", 1)[0],
            headers=list(self.headers.items()),
            body=self._read_body(),
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        try:
            response, label = self.server.gateway.handle(request)
        except Exception:
            logger.exception("local API failed on %s", request.method)
            response, label = json_response(500, {"message": "Internal server error"}), "<error>"
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        logger.info("%s %s %d (%d ms)", request.method, label, response.status, (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY ...) reaches the gateway too, which answers it with API Gateway's 403
        # for a method no route has: http.server's own answer would be a 501, which API Gateway never gives.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # `_handle` logs each request once, without paths that may hold tokens


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, gateway: ApiGateway) -> None:
        super().__init__((HOST, port), _RequestHandler)
        self.gateway = gateway
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that goes away mid-response is not an error worth a traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("client %s went away: %s", client_address[0], error)
            return
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="local-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()
