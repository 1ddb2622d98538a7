"""The secret, the bus, the sender, the outputs, and what a stage changes."""

from __future__ import annotations

import json

import pytest

from infra.components.secrets import STRIPE_SECRET_FIELDS
from infra.config import InvalidContextError
from tests.infra.conftest import Synthesized, synthesize


def test_the_stripe_secret_is_named_per_stage_encrypted_and_holds_only_placeholders(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    secret = synthesized.resource(stack.stripe_secret.secret)["Properties"]

    assert secret["Name"] == "payportal/dev/stripe"
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    # The operator writes the real values after deploy; the template only has empty fields
    assert json.loads(secret["SecretString"]) == dict.fromkeys(STRIPE_SECRET_FIELDS, "")


def test_events_go_to_the_stage_bus_and_email_from_the_configured_sender(synthesized: Synthesized) -> None:
    [bus] = synthesized.resources("AWS::Events::EventBus").values()
    [identity] = synthesized.resources("AWS::SES::EmailIdentity").values()

    assert bus["Properties"]["Name"] == "payportal-dev"
    # Stored encrypted with the stack's key, which EventBridge may use for this bus only
    key_id = synthesized.logical_id(synthesized.stack.storage.key)
    assert bus["Properties"]["KmsKeyIdentifier"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = synthesized.resource(synthesized.stack.storage.key)["Properties"]
    grants = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    # The bus's, and the webhook rule's for its queue (tests/infra/test_webhooks.py), each bound to its resource
    [allow] = [s for s in grants if "StringEquals" in s["Condition"]]
    assert "kms:EncryptionContext:aws:events:event-bus:arn" in allow["Condition"]["StringEquals"]
    assert [list(s["Condition"]) for s in grants if s is not allow] == [["ArnEquals"]]
    assert identity["Properties"]["EmailIdentity"] == synthesized.app.node.try_get_context("payportal:sesSender")


def test_the_stack_tells_the_operator_where_everything_is(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]

    assert {"ApiUrl", "TableName", "EventBusName", "StripeSecretName", "OutboxDlqUrl"} <= set(outputs)


def test_resources_are_tagged_with_project_and_stage(synthesized: Synthesized) -> None:
    tags = synthesized.resource(synthesized.stack.storage.table)["Properties"]["Tags"]

    assert {"Key": "project", "Value": "payportal"} in tags
    assert {"Key": "stage", "Value": "dev"} in tags


def test_the_stack_itself_carries_the_tags_for_cloudformation_to_apply(synthesized: Synthesized) -> None:
    # When the app is synthesized (explicitStackTags: Tags.of alone would no longer tag the stack)
    artifact = synthesized.app.synth().get_stack_artifact(synthesized.stack.artifact_id)

    # Then CloudFormation gets the tags as stack tags, for every resource it creates
    assert artifact.tags == {"project": "payportal", "stage": "dev"}


def test_prod_keeps_logs_and_the_dlq_while_dev_deletes_them(synthesized: Synthesized) -> None:
    # Given the same app in prod
    prod = synthesize(stage="prod")

    # Then prod retains what dev lets go
    for stack, policy in ((synthesized, "Delete"), (prod, "Retain")):
        trail = stack.stack.audit_trail
        assert trail is not None and stack.resource(trail.log_group)["DeletionPolicy"] == "Retain"  # every stage
        log_groups = [
            g for i, g in stack.resources("AWS::Logs::LogGroup").items() if i != stack.logical_id(trail.log_group)
        ]
        assert {group["DeletionPolicy"] for group in log_groups} == {policy}
        assert stack.resource(stack.stack.outbox.dlq)["DeletionPolicy"] == policy
    assert prod.resource(prod.stack.stripe_secret.secret)["Properties"]["Name"] == "payportal/prod/stripe"


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(InvalidContextError):
        synthesize(stage="staging")
