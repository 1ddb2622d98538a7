"""What checkov would find is fixed or skipped with a reason, on one resource, and listed in docs/security.md.

checkov itself runs in `make synth` over the real templates (CI fails on any failed check); these tests hold
what it relies on: the fixes, the skips' metadata, and the document that lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_cdk import App, Stack, aws_sqs

from infra.components.lambdas import RESERVED_CONCURRENCY
from infra.exemptions import STAGE_CONTEXTS, documented, table
from infra.nag import CHECKOV_METADATA_KEY, Exemption, checkov_skips, exempt
from shared.routes import SCHEDULED_FUNCTIONS
from tests.infra.conftest import REPO_ROOT, Synthesized, synthesize


@pytest.fixture(scope="module")
def prod() -> Iterator[Synthesized]:
    yield synthesize(**STAGE_CONTEXTS["prod"])


def test_docs_security_lists_every_checkov_skip_of_both_stages(synthesized: Synthesized, prod: Synthesized) -> None:
    # Given the skips the code writes into both stages' templates
    expected = table({"dev": checkov_skips(synthesized.stack), "prod": checkov_skips(prod.stack)})

    # Then docs/security.md holds exactly that table (regenerate it with `python -m infra.exemptions`)
    assert documented((REPO_ROOT / "docs" / "security.md").read_text()) == expected


def test_every_skip_gives_its_reason_in_the_resources_own_metadata(synthesized: Synthesized, prod: Synthesized) -> None:
    for stage in (synthesized, prod):
        resources = stage.template.to_json()["Resources"]
        skipped = [r for r in resources.values() if CHECKOV_METADATA_KEY in r.get("Metadata", {})]
        assert skipped, "no checkov skips at all: the metadata is not reaching the template"
        for resource in skipped:
            for skip in resource["Metadata"][CHECKOV_METADATA_KEY]["skip"]:
                assert skip["id"].startswith(("CKV_", "CKV2_"))
                assert len(skip["comment"]) > 40, skip  # a reason, not a placeholder


def test_the_lambda_environment_is_encrypted_with_the_stacks_own_key(synthesized: Synthesized) -> None:
    key_id = synthesized.logical_id(synthesized.stack.storage.key)
    functions = synthesized.resources("AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        assert function["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}, name


def test_scheduled_functions_dead_letter_the_runs_that_fail_lambdas_retries(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    dlq_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.scheduling.dlq), "Arn"]}
    policies = synthesized.resources("AWS::IAM::Policy")
    for name in SCHEDULED_FUNCTIONS:
        function = stack.lambdas.functions[name]
        assert synthesized.resource(function)["Properties"]["DeadLetterConfig"] == {"TargetArn": dlq_arn}
        role_id = synthesized.logical_id(stack.lambdas.roles[name])
        statements = [
            statement
            for policy in policies.values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert any(
            "sqs:SendMessage" in statement["Action"] and statement["Resource"] == dlq_arn for statement in statements
        ), name
    # and no skip claims otherwise for them
    skipped = {s.path.split("/")[2] for s in checkov_skips(stack) if s.check == "CKV_AWS_116"}
    assert not skipped & {f"{n.title().replace('_', '')}Function" for n in SCHEDULED_FUNCTIONS}


def test_concurrency_is_skipped_only_where_it_is_not_reserved(synthesized: Synthesized, prod: Synthesized) -> None:
    def unreserved(stage: Synthesized) -> set[str]:
        return {s.path.split("/")[2] for s in checkov_skips(stage.stack) if s.check == "CKV_AWS_115"}

    capped = {f"{name.title().replace('_', '')}Function" for name in RESERVED_CONCURRENCY}
    assert capped <= unreserved(synthesized)  # dev reserves nothing
    assert not capped & unreserved(prod)  # prod reserves these, so checkov passes them


def test_the_alarm_email_dead_letters_what_sns_cannot_deliver(prod: Synthesized) -> None:
    monitoring = prod.stack.monitoring
    assert monitoring.alarm_email_dlq is not None
    [subscription] = [
        s for s in prod.resources("AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "email"
    ]
    dlq_arn = {"Fn::GetAtt": [prod.logical_id(monitoring.alarm_email_dlq), "Arn"]}
    assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": dlq_arn}
    assert "AlarmEmailDeadLetters" in monitoring.alarms


def test_exempting_twice_keeps_both_skips() -> None:
    stack = Stack(App(), "Probe")
    queue = aws_sqs.Queue(stack, "Queue")
    exempt(queue, Exemption("the first reason, long enough to read", checkov=("CKV_AWS_1",)))
    exempt(
        queue, Exemption("the second reason, long enough to read", nag=("AwsSolutions-SQS3",), checkov=("CKV_AWS_2",))
    )
    assert [(s.check, s.reason) for s in checkov_skips(stack)] == [
        ("CKV_AWS_1", "the first reason, long enough to read"),
        ("CKV_AWS_2", "the second reason, long enough to read"),
    ]


def test_make_synth_scans_both_stages_with_checkov() -> None:
    makefile = (Path(REPO_ROOT) / "Makefile").read_text()
    synth = makefile[makefile.index("\nsynth:") : makefile.index("\ndeploy:")]
    assert "checkov" in synth and "PROD_SYNTH_DIR" in synth
    for key, value in STAGE_CONTEXTS["prod"].items():
        assert f"-c {key}={value}" in makefile, key
