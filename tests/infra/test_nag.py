"""cdk-nag's AwsSolutions, Serverless and PCI DSS 3.2.1 packs find nothing that is not suppressed with a
reason, errors or warnings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synthesized, synthesize

ACCEPTED_WARNINGS: set[str] = set()
PACKS = "(AwsSolutions|Serverless|PCI.DSS.321)-.*"


@pytest.fixture(scope="module")
def checked() -> Iterator[Synthesized]:
    """The dev stack with the AwsSolutions checks on, as `cdk synth` runs them."""
    yield synthesize(**{"payportal:nag": "true"})


def rule_of(message: object) -> str:
    return str(message.entry.data).split(":", 1)[0]  # type: ignore[attr-defined]


def test_the_packs_find_no_unsuppressed_errors(checked: Synthesized) -> None:
    errors = Annotations.from_stack(checked.stack).find_error("*", Match.string_like_regexp(PACKS))

    assert [f"{error.id}: {error.entry.data}" for error in errors] == []


def test_the_packs_warn_only_of_the_accepted_findings(checked: Synthesized) -> None:
    warnings = Annotations.from_stack(checked.stack).find_warning("*", Match.string_like_regexp(PACKS))

    assert {rule_of(warning) for warning in warnings} <= ACCEPTED_WARNINGS


def test_the_checks_can_be_turned_off(synthesized: Synthesized) -> None:
    # Given the module's stack, synthesized with payportal:nag=false
    annotations = Annotations.from_stack(synthesized.stack)
    findings = annotations.find_error("*", Match.string_like_regexp(PACKS)) + annotations.find_warning(
        "*", Match.string_like_regexp(PACKS)
    )

    assert findings == []
