"""The synthesized templates pass cfn-lint with no errors (warnings are listed for a reviewer, not failed)."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import synthesize

CONTEXTS = {
    "dev": {},
    "prod with a custom domain": {
        "stage": "prod",
        "payportal:domainName": "pay.example.com",
        "payportal:hostedZoneId": "Z123",
        "payportal:hostedZoneName": "example.com",
        "payportal:alarmEmail": "oncall@example.com",
    },
}


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=list(CONTEXTS))
def test_the_template_has_no_cfn_lint_errors(context: dict[str, str]) -> None:
    from cfnlint.api import ManualArgs, lint

    template = json.dumps(synthesize(**context).template.to_json())
    matches = lint(template, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))

    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.severity == "error"]
    assert errors == []
