"""cdk-nag's AwsSolutions pack finds nothing that is not suppressed with a reason.

Unsuppressed warnings left on purpose:
- AwsSolutions-APIG3 (no WAFv2 web ACL on the stage): stage throttling bounds abuse for now; a web
  ACL (rate-based and AWS managed rules) is a per-account decision with its own cost.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synthesized, synthesize

ACCEPTED_WARNINGS = {"AwsSolutions-APIG3"}


@pytest.fixture(scope="module")
def checked() -> Iterator[Synthesized]:
    """The dev stack with the AwsSolutions checks on, as `cdk synth` runs them."""
    yield synthesize(**{"payportal:nag": "true"})


def rule_of(message: object) -> str:
    return str(message.entry.data).split(":", 1)[0]  # type: ignore[attr-defined]


def test_aws_solutions_finds_no_unsuppressed_errors(checked: Synthesized) -> None:
    errors = Annotations.from_stack(checked.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))

    assert [f"{error.id}: {error.entry.data}" for error in errors] == []


def test_aws_solutions_warnings_are_only_the_accepted_ones(checked: Synthesized) -> None:
    warnings = Annotations.from_stack(checked.stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    assert {rule_of(warning) for warning in warnings} <= ACCEPTED_WARNINGS


def test_the_checks_can_be_turned_off(synthesized: Synthesized) -> None:
    # Given the module's stack, synthesized with payportal:nag=false
    findings = Annotations.from_stack(synthesized.stack).find_error(
        "*", Match.string_like_regexp("AwsSolutions-.*")
    ) + Annotations.from_stack(synthesized.stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    assert findings == []
