"""Every log group is encrypted with the customer-managed key, which CloudWatch Logs may use only for this
account's log groups."""

from __future__ import annotations

from tests.infra.conftest import Synthesized


def test_every_log_group_is_encrypted_with_the_data_key(synthesized: Synthesized) -> None:
    key = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.storage.key), "Arn"]}
    groups = synthesized.resources("AWS::Logs::LogGroup")
    assert synthesized.stack.audit_trail is not None  # its group has the trail's own key (test_audit_trail.py)
    groups.pop(synthesized.logical_id(synthesized.stack.audit_trail.log_group))
    assert len(groups) == len(synthesized.stack.lambdas.functions) + 3  # per function; API access, execution; WAF
    for logical_id, group in groups.items():
        assert group["Properties"].get("KmsKeyId") == key, logical_id


def test_cloudwatch_logs_may_use_the_key_only_for_this_accounts_log_groups(synthesized: Synthesized) -> None:
    key = synthesized.resource(synthesized.stack.storage.key)["Properties"]
    [statement] = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchLogsEncryptsThisAccountsLogGroups"
    ]
    assert "logs." in str(statement["Principal"]["Service"])
    context = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert ":log-group:*" in "".join(p if isinstance(p, str) else "" for p in context["Fn::Join"][1])
    assert {"Ref": "AWS::AccountId"} in context["Fn::Join"][1]
