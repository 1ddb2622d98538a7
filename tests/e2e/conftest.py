"""The whole offline stack for the end-to-end tests: real functions, moto, the Stripe front.

One stack serves every e2e test (starting it costs seconds). It listens on free ports, so it never clashes
with a running `make dev`. Because it points this process at itself (os.environ, the business clock), it is
stopped as soon as the last e2e test has run, before the tests in other folders, not at the very end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.config import StackConfig
from local.stack import LocalStack

E2E_DIR = Path(__file__).resolve().parent
_running: list[LocalStack] = []


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
