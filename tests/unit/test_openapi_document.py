"""The committed OpenAPI document is generated from the code; this fails when they drift."""

import json
from pathlib import Path

from functions.operator_api.openapi import document
from shared.routes import ROUTES

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    assert COMMITTED.read_text() == document(), "docs/openapi.json is stale: run `make openapi`"


def test_every_operator_route_is_documented() -> None:
    paths = json.loads(document())["paths"]
    for route in ROUTES:
        if route.function == "operator_api":
            assert route.method.lower() in paths[route.path], f"{route.method} {route.path} missing from OpenAPI"
