"""The console on the local stack, over HTTP as `make dev` serves it: the seeded admin signs in with the
seeded password, enrols TOTP from the setup key on the page, and reaches Today; then signs in again with a
code. moto's Cognito runs in the stack's moto server, patched like Cognito (local/moto_cognito.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from local.config import StackConfig
from local.stack import LocalStack
from tests.integration.console_browser import CSRF, SETUP_KEY, fresh_code

ADMIN = "admin@payportal.local"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(StackConfig.for_tests(stripe_front=False)) as running:
        yield running


class HttpBrowser:
    """Keeps the console's cookies by hand: they are Secure, and requests sends those only over HTTPS
    (browsers also send them to http://127.0.0.1, a secure context)."""

    def __init__(self, stack: LocalStack) -> None:
        self.base = stack.api_url
        self.jar: dict[str, str] = {}
        self.page = ""

    def _keep(self, reply: requests.Response) -> None:
        for header in reply.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            if "Max-Age=0" in header:
                self.jar.pop(name, None)
            else:
                self.jar[name] = rest.split(";", 1)[0]

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())} if self.jar else {}

    def get(self, path: str) -> requests.Response:
        reply = requests.get(self.base + path, headers=self._headers(), allow_redirects=False, timeout=30)
        self._keep(reply)
        self.page = reply.text
        return reply

    def post(self, path: str, form: dict[str, str]) -> requests.Response:
        found = CSRF.search(self.page)
        assert found, self.page
        headers = self._headers() | {"Origin": self.base}
        reply = requests.post(
            self.base + path, data=form | {"csrf": found.group(1)}, headers=headers, allow_redirects=False, timeout=30
        )
        self._keep(reply)
        return reply


def test_the_seeded_admin_enrols_and_signs_in_again_with_a_code(stack: LocalStack) -> None:
    browser = HttpBrowser(stack)
    assert browser.get("/console/sign-in").status_code == 200
    reply = browser.post("/console/sign-in", {"email": ADMIN, "password": stack.config.console_password})
    assert reply.status_code == 303
    enrolment = browser.get("/console/sign-in")
    assert "<svg" in enrolment.text
    found = SETUP_KEY.search(enrolment.text)
    assert found
    secret = found.group(1)
    assert browser.post("/console/sign-in/enrol", {"code": fresh_code(secret)}).status_code == 303
    today = browser.get("/console/today")
    assert today.status_code == 200 and re.search(r"<h1>Today</h1>", today.text)
    assert "default-src 'none'" in today.headers["Content-Security-Policy"]

    assert browser.post("/console/sign-out", {}).status_code == 303
    assert browser.get("/console/today").status_code == 303
    browser.get("/console/sign-in")
    browser.post("/console/sign-in", {"email": ADMIN, "password": stack.config.console_password})
    assert "Authenticator code" in browser.get("/console/sign-in").text
    assert browser.post("/console/sign-in/code", {"code": fresh_code(secret)}).status_code == 303
    assert browser.get("/console/today").status_code == 200
