"""`payportal stripe setup | rotate-webhook-secret | finish-rotation` over moto's Secrets Manager and the local
Stripe front: the endpoint Stripe would hold, the secret the functions read, and the webhook function's verdict
on events signed with each secret."""

from __future__ import annotations

import io
import json
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import stripe as stripe_sdk
from botocore.stub import Stubber

from cli.__main__ import main
from cli.adapters import api_url_from_stack
from cli.stripe_setup import LOCAL_STAGE, SetupError, set_up, stripe_secret_name_for
from shared.adapters.stripe_events import HANDLED_EVENT_TYPES
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver
from tests.support import STRIPE_KEY, json_body, stripe_event

STAGE = "test"  # the conftest's secret is payportal/test/stripe, as CDK would name it for a stage "test"
SECRET_ID = f"payportal/{STAGE}/stripe"
REGION = "us-east-1"  # the fake AWS environment's (tests/conftest.py); this file's clients name no other
REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLED = sorted(HANDLED_EVENT_TYPES)
# What CDK writes when it creates the secret (infra/components/secrets.py): empty fields for the operator.
PLACEHOLDER = {"api_key": "", "webhook_secret": ""}


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Deployed:
    """A stage as `cdk deploy` leaves it: the secret with empty fields, an API at its own URL."""

    api_url: str
    front: str
    secrets: Any

    @property
    def webhook_url(self) -> str:
        return f"{self.api_url}webhooks/stripe"

    def stored(self) -> dict[str, Any]:
        return dict(json.loads(self.secrets.get_secret_value(SecretId=SECRET_ID)["SecretString"]))

    def stripe(self) -> Any:
        return stripe_sdk.StripeClient(STRIPE_KEY, base_addresses={"api": self.front})

    def endpoints(self) -> list[Any]:
        """Stripe's endpoints for this stage's URL (the front is shared by the whole test session)."""
        listed = self.stripe().v1.webhook_endpoints.list(params={"limit": 100})
        return [e for e in listed.auto_paging_iter() if e.url == self.webhook_url]

    def run(self, *argv: str, stdin: str = "", environ: dict[str, str] | None = None, url: bool = True) -> Run:
        out, err = io.StringIO(), io.StringIO()
        args = ["stripe", *argv, "--stage", STAGE, *(["--url", self.api_url] if url else [])]
        code = main(args, stdin=io.StringIO(stdin), stdout=out, stderr=err, environ=environ or dict(os.environ))
        return Run(code, out.getvalue(), err.getvalue())

    def run_with_key(self, *argv: str, url: bool = True) -> Run:
        return self.run(*argv, "--api-key-stdin", stdin=STRIPE_KEY + "\n", url=url)


@pytest.fixture
def deployed(stripe: str, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(PLACEHOLDER))
    api_url = f"https://{uuid.uuid4().hex[:10]}.execute-api.{REGION}.amazonaws.com/{STAGE}/"
    return Deployed(api_url=api_url, front=stripe, secrets=secrets)


def handler_verdict(event: dict[str, Any], secret: str) -> int:
    """The webhook function's status for `event` signed with `secret`, in a container that has just read the
    stored secret (the five-minute cache is over)."""
    from shared import wiring

    wiring.reset()
    return int(deliver(event, secret=secret)["statusCode"])


# -- setup -------------------------------------------------------------------------------------------------


def test_setup_creates_one_endpoint_for_exactly_the_handled_events_and_stores_its_secret(deployed: Deployed) -> None:
    # When
    run = deployed.run_with_key("setup")
    # Then
    assert run.code == 0, run.err
    [endpoint] = deployed.endpoints()
    assert list(endpoint.enabled_events) == HANDLED
    assert endpoint.status == "enabled"
    assert endpoint.metadata["payportal_stage"] == STAGE
    stored = deployed.stored()
    assert stored["api_key"] == STRIPE_KEY
    assert stored["webhook_secret"].startswith("whsec_")
    assert stored["webhook_endpoint"] == endpoint.id
    assert "previous_webhook_secret" not in stored and "previous_webhook_endpoint" not in stored
    assert endpoint.id in run.out and deployed.webhook_url in run.out
    assert f"{len(HANDLED)} event types" in run.out
    # The functions read it as one current signing secret
    from shared.adapters.secrets import clear_cache, stripe_credentials

    clear_cache()
    assert stripe_credentials(SECRET_ID).webhook_secrets == (stored["webhook_secret"],)


def test_setup_run_twice_keeps_one_endpoint_and_the_same_secret(deployed: Deployed) -> None:
    # Given
    assert deployed.run_with_key("setup").code == 0
    [first] = deployed.endpoints()
    stored = deployed.stored()
    versions = len(deployed.secrets.list_secret_version_ids(SecretId=SECRET_ID)["Versions"])
    # When: again, with the key it stored
    run = deployed.run("setup")
    # Then
    assert run.code == 0, run.err
    assert [e.id for e in deployed.endpoints()] == [first.id]
    assert deployed.stored() == stored
    assert len(deployed.secrets.list_secret_version_ids(SecretId=SECRET_ID)["Versions"]) == versions
    assert "already up to date" in run.out and "unchanged" in run.out


def test_setup_corrects_the_events_of_the_existing_endpoint_instead_of_creating_another(deployed: Deployed) -> None:
    # Given: someone changed the endpoint's events in the dashboard
    assert deployed.run_with_key("setup").code == 0
    [endpoint] = deployed.endpoints()
    deployed.stripe().v1.webhook_endpoints.update(endpoint.id, params={"enabled_events": ["charge.succeeded"]})
    stored = deployed.stored()
    # When
    run = deployed.run("setup")
    # Then
    assert run.code == 0, run.err
    [corrected] = deployed.endpoints()
    assert corrected.id == endpoint.id
    assert list(corrected.enabled_events) == HANDLED
    assert deployed.stored() == stored  # the signing secret Stripe showed once is kept


def test_setup_after_the_api_moved_moves_the_endpoint_and_keeps_its_secret(deployed: Deployed) -> None:
    # Given: set up, then the API is deployed anew under another URL
    assert deployed.run_with_key("setup").code == 0
    [endpoint] = deployed.endpoints()
    stored = deployed.stored()
    deployed.api_url = f"https://{uuid.uuid4().hex[:10]}.execute-api.{REGION}.amazonaws.com/{STAGE}/"
    # When
    run = deployed.run("setup")
    # Then
    assert run.code == 0, run.err
    assert [(e.id, e.url) for e in deployed.endpoints()] == [(endpoint.id, deployed.webhook_url)]
    assert deployed.stored() == stored


def test_setup_will_not_adopt_an_endpoint_whose_signing_secret_it_cannot_know(deployed: Deployed) -> None:
    # Given: an endpoint made in the dashboard; Stripe showed its secret once, to someone else
    deployed.stripe().v1.webhook_endpoints.create(
        params={"url": deployed.webhook_url, "enabled_events": ["checkout.session.completed"]}
    )
    # When
    run = deployed.run_with_key("setup")
    # Then
    assert run.code == 1
    assert "holds no signing secret" in run.err and "rotate-webhook-secret" in run.err
    assert len(deployed.endpoints()) == 1
    assert deployed.stored() == PLACEHOLDER


def test_a_new_endpoint_whose_secret_cannot_be_stored_is_deleted_again(deployed: Deployed) -> None:
    from cli.adapters import StripeWebhookEndpoints
    from cli.stripe_setup import set_up

    class ReadOnlySecret:
        def read(self, secret_id: str) -> dict[str, str]:
            return dict(PLACEHOLDER)

        def write(self, secret_id: str, value: Any) -> None:
            raise SetupError(f"could not write secret {secret_id}: AccessDeniedException: not allowed")

    with pytest.raises(SetupError, match="deleted again; nothing changed"):
        set_up(
            stage=STAGE,
            webhook_url=deployed.webhook_url,
            api_key=STRIPE_KEY,
            secrets=ReadOnlySecret(),
            connect=lambda key: StripeWebhookEndpoints(key, deployed.front),
        )
    assert deployed.endpoints() == []


def test_setup_without_a_key_anywhere_fails_clearly_and_creates_nothing(deployed: Deployed) -> None:
    run = deployed.run("setup")
    assert run.code == 2
    assert "no Stripe API key" in run.err and "--api-key-stdin" in run.err
    assert "Traceback" not in run.err
    assert deployed.endpoints() == []
    assert deployed.stored() == PLACEHOLDER


def test_setup_refuses_an_api_url_that_is_not_one(deployed: Deployed) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["stripe", "setup", "--stage", STAGE, "--url", "ftp://example.com/", "--api-key-stdin"]
    code = main(argv, stdin=io.StringIO(STRIPE_KEY), stdout=out, stderr=err, environ=dict(os.environ))
    assert code == 2
    assert "is not an API URL" in err.getvalue()


@pytest.mark.parametrize("action", ["setup", "rotate-webhook-secret", "finish-rotation"])
def test_the_local_stacks_stage_is_refused_and_its_signing_secret_kept(stripe: str, action: str) -> None:
    """The local Stripe front signs webhooks with the stack's own secret: a stored signing secret of a new
    endpoint made the local webhook refuse every event, and local payments stayed "processing"."""
    from local.config import StackConfig

    # Given the local stack's secret, and the command pointed at its Stripe front
    local = StackConfig()
    assert local.stripe_secret_id == stripe_secret_name_for(LOCAL_STAGE)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    before = {"api_key": local.stripe_api_key, "webhook_secret": local.stripe_webhook_secret}
    secrets.create_secret(Name=local.stripe_secret_id, SecretString=json.dumps(before))
    api_url = "http://127.0.0.1:3000/"
    environ = {**os.environ, "PAYPORTAL_STRIPE_API_BASE": stripe}

    # When
    out, err = io.StringIO(), io.StringIO()
    argv = ["stripe", action, "--stage", LOCAL_STAGE, *(["--url", api_url] if action != "finish-rotation" else [])]
    code = main([*argv, "--api-key-stdin"], stdin=io.StringIO(STRIPE_KEY), stdout=out, stderr=err, environ=environ)

    # Then it says why in one line, and the local secret and Stripe's endpoints are as they were
    assert code == 2
    assert "local stack" in err.getvalue() and "Nothing changed" in err.getvalue()
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
    assert json.loads(secrets.get_secret_value(SecretId=local.stripe_secret_id)["SecretString"]) == before
    listed = stripe_sdk.StripeClient(STRIPE_KEY, base_addresses={"api": stripe}).v1.webhook_endpoints.list()
    assert [e for e in listed.auto_paging_iter() if e.url == f"{api_url}webhooks/stripe"] == []


def test_the_local_stage_is_refused_before_its_secret_is_written() -> None:
    # The use cases refuse it too, whoever calls them
    with pytest.raises(SetupError, match="local stack"):
        set_up(stage=LOCAL_STAGE, webhook_url="http://127.0.0.1:3000/webhooks/stripe", api_key=STRIPE_KEY,
               secrets=None, connect=None)  # type: ignore[arg-type]  # fmt: skip


# -- rotation ----------------------------------------------------------------------------------------------


def test_rotation_stores_the_new_and_previous_secrets_and_the_webhook_accepts_both(deployed: Deployed) -> None:
    # Given
    assert deployed.run_with_key("setup").code == 0
    [old] = deployed.endpoints()
    old_secret = deployed.stored()["webhook_secret"]
    # When
    run = deployed.run("rotate-webhook-secret")
    # Then: two endpoints, the same URL and events, during the overlap
    assert run.code == 0, run.err
    endpoints = {e.id: e for e in deployed.endpoints()}
    assert len(endpoints) == 2 and old.id in endpoints
    [new_id] = set(endpoints) - {old.id}
    assert all(list(e.enabled_events) == HANDLED for e in endpoints.values())
    stored = deployed.stored()
    assert stored["webhook_secret"].startswith("whsec_") and stored["webhook_secret"] != old_secret
    assert stored["previous_webhook_secret"] == old_secret
    assert (stored["webhook_endpoint"], stored["previous_webhook_endpoint"]) == (new_id, old.id)
    assert "exactly once" in run.out and "5 minutes" in run.out and "finish-rotation" in run.out
    # The webhook function takes an event signed by either endpoint, and records it once
    customer = create_customer()
    event = completed(checkout_for(create_invoice(customer["id"], amount_due=5_000), 5_000))
    assert handler_verdict(event, old_secret) == 200
    assert json_body(deliver(event, secret=stored["webhook_secret"]))["outcome"] == "duplicate_event"
    assert handler_verdict(stripe_event("customer.created", {"id": "cus_1"}), stored["webhook_secret"]) == 200
    assert handler_verdict(stripe_event("customer.created", {"id": "cus_1"}), "whsec_stranger") == 400


def test_finish_rotation_deletes_the_old_endpoint_and_drops_the_previous_secret(deployed: Deployed) -> None:
    # Given
    assert deployed.run_with_key("setup").code == 0
    [old] = deployed.endpoints()
    old_secret = deployed.stored()["webhook_secret"]
    assert deployed.run("rotate-webhook-secret").code == 0
    rotated = deployed.stored()
    # When
    run = deployed.run("finish-rotation", url=False)
    # Then
    assert run.code == 0, run.err
    assert [e.id for e in deployed.endpoints()] == [rotated["webhook_endpoint"]]
    with pytest.raises(stripe_sdk.InvalidRequestError) as missing:
        deployed.stripe().v1.webhook_endpoints.retrieve(old.id)
    assert missing.value.http_status == 404
    assert deployed.stored() == {
        "api_key": STRIPE_KEY,
        "webhook_secret": rotated["webhook_secret"],
        "webhook_endpoint": rotated["webhook_endpoint"],
    }
    event = stripe_event("customer.created", {"id": "cus_1"})
    assert handler_verdict(event, rotated["webhook_secret"]) == 200
    assert handler_verdict(event, old_secret) == 400
    assert old.id in run.out


def test_finish_rotation_without_a_rotation_fails_clearly_and_changes_nothing(deployed: Deployed) -> None:
    # Given
    assert deployed.run_with_key("setup").code == 0
    stored = deployed.stored()
    # When
    run = deployed.run("finish-rotation", url=False)
    # Then
    assert run.code == 1
    assert "no webhook secret rotation is in progress" in run.err
    assert "Traceback" not in run.err and run.out == ""
    assert len(deployed.endpoints()) == 1
    assert deployed.stored() == stored


def test_a_second_rotation_before_the_first_is_finished_is_refused(deployed: Deployed) -> None:
    assert deployed.run_with_key("setup").code == 0
    assert deployed.run("rotate-webhook-secret").code == 0
    stored = deployed.stored()
    run = deployed.run("rotate-webhook-secret")
    assert run.code == 1
    assert "already in progress" in run.err
    assert len(deployed.endpoints()) == 2
    assert deployed.stored() == stored  # the previous secret is not lost


# -- secrets stay secret -----------------------------------------------------------------------------------


def test_neither_the_key_nor_a_signing_secret_is_ever_printed(deployed: Deployed) -> None:
    environ = dict(os.environ) | {"STRIPE_API_KEY": STRIPE_KEY}
    runs = [
        deployed.run("setup", environ=environ),
        deployed.run("setup", environ=environ),
        deployed.run("rotate-webhook-secret", environ=environ),
    ]
    rotated = deployed.stored()
    runs.append(deployed.run("finish-rotation", environ=environ, url=False))
    runs.append(deployed.run("finish-rotation", environ=environ, url=False))  # fails: nothing to finish
    # A key Stripe refuses
    wrong_key = "sk_test_" + uuid.uuid4().hex
    runs.append(deployed.run("setup", environ=dict(os.environ) | {"STRIPE_API_KEY": wrong_key}))
    # A publishable key pasted by mistake
    publishable = "pk_test_" + uuid.uuid4().hex
    runs.append(deployed.run("setup", "--api-key-stdin", stdin=publishable))
    assert [r.code for r in runs] == [0, 0, 0, 0, 1, 1, 2]
    printed = "".join(r.out + r.err for r in runs)
    keys = (STRIPE_KEY, wrong_key, publishable)
    for secret in (*keys, rotated["webhook_secret"], rotated["previous_webhook_secret"]):
        assert secret not in printed
    assert "whsec_" not in printed
    assert "Stripe refused the API key" in runs[-2].err
    assert "publishable key" in runs[-1].err


# -- the stack's URL ---------------------------------------------------------------------------------------


def _cloudformation(stub: Callable[[Stubber], None]) -> Any:
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    stub(stubber)
    stubber.activate()
    return client


def _stack(outputs: list[dict[str, str]]) -> dict[str, Any]:
    from datetime import UTC, datetime

    stack = {
        "StackName": "payportal-test",
        "CreationTime": datetime.now(UTC),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": outputs,
    }
    return {"Stacks": [stack]}


def test_the_api_url_is_the_stacks_api_url_output() -> None:
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/test/"
    outputs = [{"OutputKey": "TableName", "OutputValue": "t"}, {"OutputKey": "ApiUrl", "OutputValue": url}]
    client = _cloudformation(
        lambda s: s.add_response("describe_stacks", _stack(outputs), {"StackName": "payportal-test"})
    )
    assert api_url_from_stack(client, "payportal-test") == url


def test_a_missing_stack_or_output_is_a_clear_error() -> None:
    missing = _cloudformation(
        lambda s: s.add_client_error(
            "describe_stacks", "ValidationError", "Stack with id payportal-test does not exist", 400
        )
    )
    with pytest.raises(SetupError, match=r"payportal-test does not exist in us-east-1.*--url"):
        api_url_from_stack(missing, "payportal-test")
    unfinished = _cloudformation(lambda s: s.add_response("describe_stacks", _stack([])))
    with pytest.raises(SetupError, match="has no ApiUrl output"):
        api_url_from_stack(unfinished, "payportal-test")


def test_setup_registers_the_webhook_under_the_deployed_stacks_api_url(deployed: Deployed) -> None:
    # Given: the stack reports its API URL
    outputs = [{"OutputKey": "ApiUrl", "OutputValue": deployed.api_url}]
    cloudformation = _cloudformation(
        lambda s: s.add_response("describe_stacks", _stack(outputs), {"StackName": f"payportal-{STAGE}"})
    )

    def aws_client(service: str, region: str | None) -> Any:
        return cloudformation if service == "cloudformation" else boto3.client("secretsmanager", region_name=REGION)

    out, err = io.StringIO(), io.StringIO()
    argv = ["stripe", "setup", "--stage", STAGE, "--api-key-stdin"]
    # When
    code = main(argv, stdin=io.StringIO(STRIPE_KEY), stdout=out, stderr=err, aws_client=aws_client)
    # Then
    assert code == 0, err.getvalue()
    assert [e.url for e in deployed.endpoints()] == [deployed.webhook_url]


def test_a_missing_stack_ends_the_command_with_one_line_and_status_1() -> None:
    cloudformation = _cloudformation(
        lambda s: s.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist", 400)
    )
    err = io.StringIO()
    code = main(
        ["stripe", "setup", "--stage", STAGE],
        stdout=io.StringIO(),
        stderr=err,
        environ={"STRIPE_API_KEY": STRIPE_KEY},
        aws_client=lambda service, region: cloudformation,
    )
    assert code == 1
    assert err.getvalue().count("\n") == 1 and "does not exist" in err.getvalue()


def test_the_cli_uses_the_names_the_stack_is_deployed_with() -> None:
    # infra/ is not imported by the CLI (aws_cdk takes seconds to load), so the names are held equal here.
    from cli import stripe_setup
    from infra.components.secrets import stripe_secret_name_for
    from infra.stack import OUTPUT_API_URL, stack_name_for

    assert stripe_setup.stack_name_for("prod") == stack_name_for("prod")
    assert stripe_setup.stripe_secret_name_for("prod") == stripe_secret_name_for("prod")
    assert stripe_setup.OUTPUT_API_URL == OUTPUT_API_URL
    assert stripe_setup.webhook_url_for("https://x.example/dev/") == "https://x.example/dev/webhooks/stripe"


# -- the command and the local Stripe ----------------------------------------------------------------------


def test_bin_payportal_runs_and_takes_no_key_as_an_argument() -> None:
    top = subprocess.run(
        [str(REPO_ROOT / "bin" / "payportal"), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert top.returncode == 0, top.stderr
    assert "stripe" in top.stdout
    setup = subprocess.run(
        [str(REPO_ROOT / "bin" / "payportal"), "stripe", "setup", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    assert "--api-key-stdin" in setup.stdout
    assert "--api-key " not in setup.stdout and "--api-key=" not in setup.stdout


def test_the_local_stripe_front_serves_webhook_endpoints_in_stripes_shapes(stripe_front_url: str) -> None:
    api = f"{stripe_front_url}/v1/webhook_endpoints"
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    url = f"https://{uuid.uuid4().hex[:8]}.example.com/webhooks/stripe"
    # Created with `enabled_events[]` keys (the SDK sends `enabled_events[0]`): the secret shows this once
    form = [("url", url), ("enabled_events[]", "checkout.session.completed"), ("enabled_events[]", "charge.failed")]
    created = requests.post(api, data=form, headers=auth, timeout=10).json()
    assert created["object"] == "webhook_endpoint" and created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert created["enabled_events"] == ["checkout.session.completed", "charge.failed"]
    assert (created["url"], created["status"]) == (url, "enabled")
    listed = requests.get(api, params={"limit": 100}, headers=auth, timeout=10).json()
    assert (listed["object"], listed["has_more"]) == ("list", False)
    [found] = [e for e in listed["data"] if e["id"] == created["id"]]
    assert "secret" not in found
    # Updated: events replaced, disabled
    update = {"enabled_events[0]": "charge.dispute.created", "disabled": "true"}
    updated = requests.post(f"{api}/{created['id']}", data=update, headers=auth, timeout=10).json()
    assert (updated["enabled_events"], updated["status"]) == (["charge.dispute.created"], "disabled")
    # Deleted, then gone
    deleted = requests.delete(f"{api}/{created['id']}", headers=auth, timeout=10).json()
    assert deleted == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    gone = requests.delete(f"{api}/{created['id']}", headers=auth, timeout=10)
    assert gone.status_code == 404
    assert gone.json()["error"]["type"] == "invalid_request_error"
    assert gone.json()["error"]["code"] == "resource_missing"
    refused = requests.post(api, data={"url": url}, headers=auth, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "enabled_events"
