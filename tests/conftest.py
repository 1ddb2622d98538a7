"""Fixtures every test tier shares."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings
from xdist.scheduler import LoadFileScheduling

# Hypothesis's 200 ms deadline per example times the machine, not the code: on two shared cores, with the
# tests spread over pytest-xdist workers, one example took 390 ms on its first run and 75 ms on the next.
settings.register_profile("payportal", deadline=None)
settings.load_profile("payportal")

INFRA_TESTS = "tests/infra/"
UNIT_SECONDS = "payportal/xdist-unit-seconds"
_unit_seconds: defaultdict[str, float] = defaultdict(float)  # this run's, per unit (setup, call and teardown)

FAKE_AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@pytest.fixture(scope="session", autouse=True)
def fake_aws_credentials() -> Iterator[None]:
    """No test can reach a real AWS account, whatever the developer's shell holds; undone at the end."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        yield


def work_unit(path: str) -> str:
    """What one worker runs whole (`path` from the repo root): a test module, so its module fixtures are built
    once; but the infra tests all on one worker, which loads CDK's runtime and synthesizes each stage once
    (about 7 s a stage), where each worker would otherwise."""
    return "infra" if path.startswith(INFRA_TESTS) else path


class ModulesAndInfra(LoadFileScheduling):
    """`--dist loadfile`, with tests/infra one unit (pytest-xdist's own groups, `--dist loadgroup`, go unseen:
    pytest 9 no longer reads the node ids it rewrites)."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid.split("::", 1)[0])


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    return ModulesAndInfra(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the units in the order the workers take them (the Makefile passes
    --no-loadscope-reorder): the longest first, by the seconds each took last time, so that no long module
    starts last while the other worker idles. A unit not timed yet goes first, the one with most tests first,
    as pytest-xdist orders them (docs/decisions.md, 141)."""
    cache = getattr(config, "cache", None)
    if not hasattr(config, "workerinput") or cache is None:
        return
    last: dict[str, float] = cache.get(UNIT_SECONDS, {})
    units = {item: work_unit(item.nodeid.split("::", 1)[0]) for item in items}
    sizes = Counter(units.values())
    items.sort(key=lambda item: (units[item] in last, -last.get(units[item], sizes[units[item]])))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _unit_seconds[work_unit(report.nodeid.split("::", 1)[0])] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _unit_seconds:  # the controller writes
        return
    cache.set(UNIT_SECONDS, {**cache.get(UNIT_SECONDS, {}), **_unit_seconds})
