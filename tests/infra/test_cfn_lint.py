"""The synthesized templates pass cfn-lint with no errors (warnings are listed for a reviewer, not failed)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import pytest

from infra.exemptions import STAGE_CONTEXTS
from tests.infra.conftest import synthesize

REGIONS = ["us-east-1", "eu-west-1"]
CACHE_PREFIX = "payportal/cfn-lint"


def lint_errors(template: Mapping[str, Any]) -> list[str]:
    # Imported here: cfn-lint's rules and schemas take seconds to load, and a cached verdict needs none of them.
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=REGIONS))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.severity == "error"]


def verdict_key(template: Mapping[str, Any]) -> str:
    """Everything cfn-lint's verdict depends on: the template itself, cfn-lint's version (its rules and
    resource schemas ship with it) and the regions (docs/decisions.md, 141)."""
    linted = json.dumps({"template": template, "cfn-lint": version("cfn-lint"), "regions": REGIONS}, sort_keys=True)
    return f"{CACHE_PREFIX}/{hashlib.sha256(linted.encode()).hexdigest()}"


@pytest.mark.parametrize("context", STAGE_CONTEXTS.values(), ids=list(STAGE_CONTEXTS))
def test_the_template_has_no_cfn_lint_errors(context: dict[str, str], request: pytest.FixtureRequest) -> None:
    # Given a stage's template as `make synth` synthesizes it
    template = synthesize(**context).template.to_json()
    # When cfn-lint checks it (about 8 s a template): a clean verdict on this very template, with this cfn-lint,
    # is kept in pytest's cache and not linted again; anything else is linted
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    key = verdict_key(template)
    errors = [] if cache is not None and cache.get(key, None) == [] else lint_errors(template)
    if cache is not None and errors == []:
        cache.set(key, errors)

    # Then it finds no errors
    assert errors == []
