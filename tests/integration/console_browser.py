"""A browser's view of the console function over moto: cookies kept as a browser keeps them (HttpOnly,
Secure, SameSite=Strict ones sent back to this origin), the CSRF token read from the page's form."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3

from local import cognito
from local.api_server import match_route
from shared.domain.console_roles import Role
from tests.fakes.console import totp
from tests.support import FakeLambdaContext, api_event

ORIGIN = "https://pay.example.com"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SETUP_KEY = re.compile(r'class="key">([A-Z2-7]+)<')


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str]
    cookies: list[str]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class ConsoleBrowser:
    jar: dict[str, str] = field(default_factory=dict)
    last: Reply | None = None
    set_cookies: list[str] = field(default_factory=list)  # every Set-Cookie received, in order

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Reply:
        from functions.console.handler import lambda_handler

        split = urlsplit(path)
        matched = match_route(method, split.path)
        assert matched is not None, path
        route, parameters = matched
        sent = dict(headers or {})
        if self.jar:
            sent.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.jar.items()))
        pairs = parse_qsl(split.query, keep_blank_values=True)
        every: dict[str, list[str]] = {}
        for name, value in pairs:
            every.setdefault(name, []).append(value)
        event = api_event(
            method, split.path, resource=route.path, path_parameters=parameters or None, form=form, headers=sent,
            body=body,
            query={name: values[-1] for name, values in every.items()} or None, operator=False,
        )  # fmt: skip
        event["multiValueQueryStringParameters"] = every or None  # as API Gateway sends a repeated name
        raw: dict[str, Any] = lambda_handler(event, FakeLambdaContext())
        headers_out = {k: v[-1] for k, v in (raw.get("multiValueHeaders") or {}).items()} | (raw.get("headers") or {})
        cookies = list((raw.get("multiValueHeaders") or {}).get("Set-Cookie", []))
        self.set_cookies.extend(cookies)
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        self.last = Reply(raw["statusCode"], raw.get("body") or "", headers_out, cookies)
        return self.last

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def follow(self) -> Reply:
        assert self.last is not None and self.last.status == 303, self.last
        location = urlsplit(self.last.location)
        return self.get(location.path + (f"?{location.query}" if location.query else ""))

    def csrf(self) -> str:
        assert self.last is not None
        found = CSRF.search(self.last.body)
        assert found, self.last.body
        return found.group(1)

    def post(self, path: str, form: dict[str, str] | None = None, *, csrf: bool = True, origin: str = ORIGIN) -> Reply:
        fields = dict(form or {})
        if csrf:
            fields["csrf"] = self.csrf()
        return self.request("POST", path, form=fields, headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})

    def upload(self, path: str, fields: dict[str, str], file: tuple[str, str, str], *, csrf: bool = True) -> Reply:
        """A multipart/form-data post, as a form with a file input sends it: `file` is (field, filename, text)."""
        boundary = "----payportal-test-boundary-7MA4YWxkTrZu0gW"
        parts = dict(fields, **({"csrf": self.csrf()} if csrf else {}))
        lines = []
        for name, value in parts.items():
            lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
        field, filename, text = file
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{field}"; filename="{filename}"',
                  "Content-Type: text/csv", "", text, f"--{boundary}--", ""]  # fmt: skip
        headers = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin",
                   "Content-Type": f"multipart/form-data; boundary={boundary}"}  # fmt: skip
        return self.request("POST", path, headers=headers, body="\r\n".join(lines))

    def sign_in(self, email: str, password: str = cognito.DEFAULT_CONSOLE_PASSWORD) -> Reply:
        self.get("/console/sign-in")
        self.post("/console/sign-in", {"email": email, "password": password})
        return self.follow()

    def enrol(self) -> tuple[str, Reply]:
        """On the enrolment page: read the setup key, type the app's code; (the secret, the next page)."""
        assert self.last is not None
        found = SETUP_KEY.search(self.last.body)
        assert found, self.last.body
        secret = found.group(1)
        self.post("/console/sign-in/enrol", {"code": fresh_code(secret)})
        return secret, self.follow()

    def code(self, secret: str) -> Reply:
        self.post("/console/sign-in/code", {"code": fresh_code(secret)})
        return self.follow()


def fresh_code(secret: str) -> str:
    """A code with time to spare: moto checks the current 30-second window only."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return totp(secret)


def console_pool() -> cognito.ConsolePool:
    """The console's pool in moto (inside the `aws` fixture), with the three seeded users."""
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = cognito.provision(idp, "payportal-test")
    cognito.seed_staff(idp, pool, cognito.DEFAULT_CONSOLE_PASSWORD)
    return pool


def signed_in(role: Role) -> ConsoleBrowser:
    browser = ConsoleBrowser()
    browser.sign_in(f"{role.value}@payportal.local")
    browser.enrol()
    return browser
