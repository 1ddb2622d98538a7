"""The CDK app (`cdk.json` runs `python3 -m infra.app` from the repo root): one PayportalStack for the stage."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks

from infra.config import StageConfig, nag_enabled
from infra.stack import PayportalStack, stack_name_for


def build_app(context: Mapping[str, object] | None = None) -> tuple[App, PayportalStack]:
    """The app and its stack; `context` adds to what the CLI passes (tests pass cdk.json's)."""
    app = App(context=dict(context) if context is not None else None)
    config = StageConfig.from_context(app.node)
    stack = PayportalStack(
        app,
        stack_name_for(config.stage),
        config=config,
        description="payportal: hosted pay pages, Stripe Checkout and webhooks, operator API, outbox",
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    if nag_enabled(app.node):
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
        Aspects.of(app).add(ServerlessChecks(verbose=True))
        Aspects.of(app).add(PCIDSS321Checks(verbose=True))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
