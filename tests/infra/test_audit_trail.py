"""The audit trail (issue 17): a multi-region CloudTrail trail of management events, validated, to a bucket of its
own (its own KMS key, versioned, TLS only, private, access-logged, files expiring) and a CloudWatch Logs group;
the table's data events only where the operator turns them on; no trail where the operator says one exists."""

from __future__ import annotations

import pytest

from infra.config import InvalidContextError
from tests.infra.conftest import Synthesized, synthesize


def test_the_trail_records_every_regions_management_events_into_its_own_encrypted_bucket(
    synthesized: Synthesized,
) -> None:
    trail_construct = synthesized.stack.audit_trail
    assert trail_construct is not None
    [trail] = synthesized.resources("AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["IsMultiRegionTrail"] is True and props["IncludeGlobalServiceEvents"] is True
    assert props["EnableLogFileValidation"] is True and props["IsLogging"] is True
    assert props["KMSKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(trail_construct.key), "Arn"]}
    assert props["S3BucketName"] == {"Ref": synthesized.logical_id(trail_construct.bucket)}
    assert props["CloudWatchLogsLogGroupArn"] == {
        "Fn::GetAtt": [synthesized.logical_id(trail_construct.log_group), "Arn"]
    }
    assert props["EventSelectors"] == [{"IncludeManagementEvents": True, "ReadWriteType": "All"}]
    assert "AdvancedEventSelectors" not in props  # the table's data events are the operator's choice (billed)

    bucket = synthesized.resource(trail_construct.bucket)
    assert bucket["DeletionPolicy"] == "Retain"
    settings = bucket["Properties"]
    assert settings["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = settings["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [synthesized.logical_id(trail_construct.key), "Arn"]
    }
    assert all(settings["PublicAccessBlockConfiguration"].values())
    assert settings["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": synthesized.logical_id(synthesized.stack.access_logs.bucket)
    }
    [expiry] = settings["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 400
    logs = synthesized.resource(trail_construct.log_group)["Properties"]
    assert logs["RetentionInDays"] == 400 and "KmsKeyId" in logs
    key = synthesized.resource(trail_construct.key)["Properties"]
    assert key["EnableKeyRotation"] is True


def test_the_tables_data_events_are_recorded_when_the_operator_turns_them_on() -> None:
    checked = synthesize(**{"payportal:tableDataEvents": "true", "payportal:auditTrailDays": "731"})

    [trail] = checked.resources("AWS::CloudTrail::Trail").values()
    selectors = trail["Properties"]["AdvancedEventSelectors"]
    assert "EventSelectors" not in trail["Properties"]
    management, data = selectors
    assert management["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    fields = {f["Field"]: f["Equals"] for f in data["FieldSelectors"]}
    assert fields["eventCategory"] == ["Data"] and fields["resources.type"] == ["AWS::DynamoDB::Table"]
    assert fields["resources.ARN"] == [{"Fn::GetAtt": [checked.logical_id(checked.stack.storage.table), "Arn"]}]
    assert checked.stack.audit_trail is not None
    logs = checked.resource(checked.stack.audit_trail.log_group)["Properties"]
    assert logs["RetentionInDays"] == 731


def test_an_operator_with_an_organization_trail_can_leave_this_one_out() -> None:
    checked = synthesize(**{"payportal:auditTrail": "false"})

    assert checked.stack.audit_trail is None
    assert checked.resources("AWS::CloudTrail::Trail") == {}


@pytest.mark.parametrize(
    "context",
    [
        {"payportal:auditTrail": "maybe"},
        {"payportal:auditTrailDays": "30"},
        {"payportal:auditTrailDays": "a year"},
        {"payportal:auditTrail": "false", "payportal:tableDataEvents": "true"},
    ],
)
def test_a_trail_setting_that_makes_no_sense_fails_the_synth(context: dict[str, str]) -> None:
    with pytest.raises(InvalidContextError):
        synthesize(**context)
