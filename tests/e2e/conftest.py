"""The whole offline stack for the end-to-end tests: real functions, moto, the Stripe front.

One stack serves every e2e test (starting it costs seconds). It listens on free ports, so it never clashes
with a running `make dev`. Because it points this process at itself (os.environ, the business clock), it is
stopped as soon as the last e2e test has run, before the tests in other folders, not at the very end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.config import StackConfig
from local.stack import LocalStack

E2E_DIR = Path(__file__).resolve().parent
_running: list[LocalStack] = []

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium's own background traffic has nowhere to go on a closed network: switch it off.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium per browser test module (each test opens its own context)."""
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    stack = LocalStack(StackConfig.for_tests())
    _running.append(stack)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def _real_time_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that moves the business clock does not move it for the next one."""
    yield
    if "local_stack" in request.fixturenames:
        stack: LocalStack = request.getfixturevalue("local_stack")
        if stack.started:
            stack.clock.reset()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _running and (nextitem is None or E2E_DIR not in Path(nextitem.path).resolve().parents):
        _running.pop().stop()


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    """A page in a desktop-sized context of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page in a phone's context of its own (390 x 844, touch)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()
