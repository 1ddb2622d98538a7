"""The fake Stripe stands on its own: a fake of Stripe, not a part of payportal."""

from __future__ import annotations

import ast
from pathlib import Path

import local.fake_stripe

PACKAGE = Path(local.fake_stripe.__file__).resolve().parent
PAYPORTAL_PACKAGES = {"local", "shared", "functions", "cli", "infra", "benchmarks", "tests"}


def imported_modules(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_fake_stripe_imports_nothing_else_of_payportal() -> None:
    # Given every module of the package, When reading what each imports
    outside = {
        f"{source.relative_to(PACKAGE)}: {module}"
        for source in PACKAGE.rglob("*.py")
        for module in imported_modules(source)
        if module.split(".")[0] in PAYPORTAL_PACKAGES and not module.startswith("local.fake_stripe")
    }
    # Then nothing comes from the rest of payportal
    assert not outside, sorted(outside)
