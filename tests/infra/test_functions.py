"""One function per folder, same runtime everywhere, configured by ids and never by secret values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.bundling import REPO_ROOT
from infra.components import lambdas
from shared.routes import HTTP_FUNCTIONS, QUEUE_FUNCTIONS, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS
from tests.infra.conftest import Synthesized, find_refs, synthesize

EXPECTED_FUNCTIONS = {*HTTP_FUNCTIONS, *STREAM_FUNCTIONS, *SCHEDULED_FUNCTIONS, *SES_EVENT_FUNCTIONS, *QUEUE_FUNCTIONS}
REQUIRED_ENVIRONMENT = {
    "PAYPORTAL_TABLE",
    "PAYPORTAL_EVENT_BUS",
    "PAYPORTAL_SENDER_EMAIL",
    "PAYPORTAL_PUBLIC_BASE_URL",
    "PAYPORTAL_SUPPORT_CONTACT",
    "PAYPORTAL_PAYMENT_METHOD_TYPES",
    "PAYPORTAL_STRIPE_SECRET_ID",
    "PAYPORTAL_BUSINESS_NAME",
    "PAYPORTAL_SES_CONFIGURATION_SET",
    "PAYPORTAL_FINANCIAL_RETENTION_DAYS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}

# Only the functions that use them: where the dunning run leaves its continuations; the morning digest's "today"
# (the digest run) and who gets it (the outbox), the zone also the accounting exports' days (the operator API);
# the console's Cognito app client.
DIGEST_ENVIRONMENT = {"PAYPORTAL_DIGEST_RECIPIENTS", "PAYPORTAL_DIGEST_TIMEZONE"}
EXTRA_ENVIRONMENT = {
    "reminders": {"PAYPORTAL_REMINDERS_QUEUE_URL"},
    "digest": DIGEST_ENVIRONMENT,
    "outbox": DIGEST_ENVIRONMENT,
    "console": {"PAYPORTAL_CONSOLE_CLIENT_ID", "PAYPORTAL_CONSOLE_USER_POOL_ID", "PAYPORTAL_IMPORTS_QUEUE_URL"},
    # the exports' time zone; where POST /v1/imports (and the Import page) put the chunks and the bucket its upload
    # forms lead to; the webhook deliveries queue (the delivery function fans out onto it, the operator API queues
    # replays)
    "operator_api": {
        "PAYPORTAL_DIGEST_TIMEZONE",
        "PAYPORTAL_IMPORTS_QUEUE_URL",
        "PAYPORTAL_IMPORTS_BUCKET",
        "PAYPORTAL_WEBHOOKS_QUEUE_URL",
    },
    # an uploaded file to check (the bucket), then its chunks to queue (its own queue)
    "imports": {"PAYPORTAL_IMPORTS_BUCKET", "PAYPORTAL_IMPORTS_QUEUE_URL"},
    "webhook_delivery": {"PAYPORTAL_WEBHOOKS_QUEUE_URL"},
}


def environment_of(synthesized: Synthesized, name: str) -> dict[str, Any]:
    function = synthesized.resource(synthesized.stack.lambdas.functions[name])
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def test_there_is_one_function_per_function_folder(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")

    assert set(synthesized.stack.lambdas.functions) == EXPECTED_FUNCTIONS
    assert len(functions) == len(EXPECTED_FUNCTIONS)
    for name in EXPECTED_FUNCTIONS:
        assert (REPO_ROOT / "functions" / name).is_dir(), f"functions/{name} is deployed but does not exist"


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_each_function_runs_python_3_13_on_arm64_with_its_own_handler(synthesized: Synthesized, name: str) -> None:
    function = synthesized.resource(synthesized.stack.lambdas.functions[name])["Properties"]

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == f"functions.{name}.handler.lambda_handler"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Layers"] == [{"Ref": synthesized.logical_id(synthesized.stack.lambdas.layer)}]
    assert function["MemorySize"] == lambdas.MEMORY_MB.get(name, lambdas.DEFAULT_MEMORY_MB)
    assert function["Timeout"] == lambdas.TIMEOUT_SECONDS.get(name, lambdas.DEFAULT_TIMEOUT_SECONDS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_each_function_logs_to_its_own_group_with_a_retention(synthesized: Synthesized, name: str) -> None:
    lambdas_construct = synthesized.stack.lambdas
    function = synthesized.resource(lambdas_construct.functions[name])["Properties"]
    log_group = synthesized.resource(lambdas_construct.log_groups[name])["Properties"]

    assert function["LoggingConfig"]["LogGroup"] == {"Ref": synthesized.logical_id(lambdas_construct.log_groups[name])}
    assert log_group["RetentionInDays"] > 0


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_each_function_gets_the_settings_shared_config_reads(synthesized: Synthesized, name: str) -> None:
    environment = environment_of(synthesized, name)
    context = synthesized.app.node

    assert set(environment) == REQUIRED_ENVIRONMENT | EXTRA_ENVIRONMENT.get(name, set())
    assert environment["POWERTOOLS_SERVICE_NAME"] == f"payportal-{name}"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "payportal-dev"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert environment["PAYPORTAL_SENDER_EMAIL"] == context.try_get_context("payportal:sesSender")
    assert environment["PAYPORTAL_PAYMENT_METHOD_TYPES"] == context.try_get_context("payportal:paymentMethodTypes")
    assert environment["PAYPORTAL_TABLE"] == {"Ref": synthesized.logical_id(synthesized.stack.storage.table)}
    assert environment["PAYPORTAL_EVENT_BUS"] == {"Ref": synthesized.logical_id(synthesized.stack.events.bus)}


@pytest.mark.parametrize("name", sorted(EXPECTED_FUNCTIONS))
def test_the_stripe_secret_reaches_functions_as_an_id_never_as_a_value(synthesized: Synthesized, name: str) -> None:
    # Given the Stripe secret in Secrets Manager
    secret_id = synthesized.logical_id(synthesized.stack.stripe_secret.secret)

    # When a function's environment is synthesized
    environment = environment_of(synthesized, name)
    rendered = json.dumps(environment)

    # Then it holds the secret's ARN (a Ref), and nothing that would resolve or embed its value
    assert environment["PAYPORTAL_STRIPE_SECRET_ID"] == {"Ref": secret_id}
    assert "resolve:secretsmanager" not in rendered
    assert "SecretString" not in rendered
    assert not any(marker in rendered for marker in ("sk_live", "sk_test", "rk_live", "whsec_"))
    assert [ref for ref in find_refs(environment, "Fn::GetAtt") if ref[0] == secret_id] == []


def test_without_a_public_url_functions_use_the_api_invoke_url_built_from_its_id(synthesized: Synthesized) -> None:
    # Given cdk.json leaves payportal:publicBaseUrl empty
    assert synthesized.app.node.try_get_context("payportal:publicBaseUrl") == ""
    api = synthesized.stack.api

    # When the functions are synthesized
    base_url = environment_of(synthesized, "checkout")["PAYPORTAL_PUBLIC_BASE_URL"]

    # Then the URL is https://{api id}.execute-api.{region}.{suffix}/{stage}, referencing the API only,
    # never its Stage or Deployment (which depend on the functions: a cycle)
    refs = find_refs(base_url, "Ref")
    assert synthesized.logical_id(api.rest_api) in refs
    assert not {ref for ref in refs if "Deployment" in ref}
    parts = base_url["Fn::Join"][1]
    assert parts[0] == "https://"
    assert parts[-1].endswith(f"/{api.stage_name}")


def test_a_configured_public_url_is_used_as_is() -> None:
    # Given a public URL in the context
    configured = synthesize(**{"payportal:publicBaseUrl": "https://pay.example.com/"})

    # Then every function gets it, without the trailing slash
    for name in EXPECTED_FUNCTIONS:
        assert environment_of(configured, name)["PAYPORTAL_PUBLIC_BASE_URL"] == "https://pay.example.com"
