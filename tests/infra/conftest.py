"""Synthesizes PayportalStack for the infra tests, with cdk.json's context and bundling skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.app import build_app
from infra.config import CONTEXT_NAG
from infra.stack import PayportalStack

REPO_ROOT = Path(__file__).resolve().parents[2]
# An empty list of stacks to bundle: CDK fingerprints assets but builds none (no uv, no copying).
SKIP_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: PayportalStack
    template: Template

    def logical_id(self, construct: IConstruct) -> str:
        """The CloudFormation logical id of an L2 construct's resource (or of an L1 itself)."""
        element = construct.node.default_child or construct
        return Stack.of(construct).get_logical_id(element)  # type: ignore[arg-type]

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        resource: dict[str, Any] = self.template.to_json()["Resources"][self.logical_id(construct)]
        return resource

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: dict(resource) for logical_id, resource in self.template.find_resources(resource_type).items()
        }


# One synthesis per context and test process: about 6 s each, and no test changes what it gets (they read the
# template and the constructs). A context that fails to synthesize is not kept, so it raises every time.
_synthesized: dict[str, Synthesized] = {}


def synthesize(**context: object) -> Synthesized:
    key = json.dumps(context, sort_keys=True)
    if key not in _synthesized:
        app, stack = build_app({**cdk_json_context(), CONTEXT_NAG: "false", **SKIP_BUNDLING, **context})
        _synthesized[key] = Synthesized(app=app, stack=stack, template=Template.from_stack(stack))
    return _synthesized[key]


@pytest.fixture(scope="session")
def synthesized() -> Iterator[Synthesized]:
    """The dev stack as cdk.json configures it, synthesized once per test process (each xdist worker)."""
    yield synthesize()


def find_refs(value: Any, key: str) -> list[Any]:
    """Every value under `key` (e.g. "Ref", "Fn::GetAtt") anywhere inside a template fragment."""
    found: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                found.append(v)
            found.extend(find_refs(v, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(find_refs(item, key))
    return found
