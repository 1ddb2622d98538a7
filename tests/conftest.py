"""Fixtures every test tier shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis's 200 ms deadline per example times the machine, not the code: on two shared cores, with the
# tests spread over pytest-xdist workers, one example took 390 ms on its first run and 75 ms on the next.
settings.register_profile("payportal", deadline=None)
settings.load_profile("payportal")

INFRA_DIR = Path(__file__).resolve().parent / "infra"

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup, the Makefile's)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test module is an xdist group, so its module fixtures are built once; the infra tests are one group,
    so one worker loads CDK's runtime and synthesizes each stage once (about 7 s a stage), not every worker."""
    for item in items:
        path = Path(item.path).resolve()
        group = "infra" if INFRA_DIR in path.parents else str(path.relative_to(INFRA_DIR.parents[1]))
        item.add_marker(pytest.mark.xdist_group(group))
