"""SES reports bounces and complaints back: configuration set -> SNS topic -> functions/email_feedback."""

from __future__ import annotations

from tests.infra.conftest import Synthesized


def test_the_configuration_set_suppresses_bounces_and_complaints_and_publishes_them(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    configuration_set = synthesized.resource(stack.email.configuration_set)["Properties"]
    assert configuration_set["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]
    # Emails carry pay links: never delivered to a mail server without TLS
    assert configuration_set["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"

    [destination] = synthesized.resources("AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": synthesized.logical_id(stack.email.configuration_set)}
    assert sorted(props["EventDestination"]["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert props["EventDestination"]["SnsDestination"]["TopicARN"] == {
        "Ref": synthesized.logical_id(stack.email.feedback_topic)
    }
    # SES may publish to the topic only on behalf of this configuration set.
    feedback_topic = {"Ref": synthesized.logical_id(stack.email.feedback_topic)}
    [policy] = [
        p
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [feedback_topic]
    ]
    [allow] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert {"Ref": synthesized.logical_id(stack.email.configuration_set)} in (
        allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    )


def test_every_function_sends_through_the_configuration_set(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    for function in stack.lambdas.functions.values():
        variables = synthesized.resource(function)["Properties"]["Environment"]["Variables"]
        assert variables["PAYPORTAL_SES_CONFIGURATION_SET"] == {
            "Ref": synthesized.logical_id(stack.email.configuration_set)
        }


def test_the_feedback_topic_is_encrypted_and_feeds_only_the_feedback_function(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    topic = synthesized.resource(stack.email.feedback_topic)["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    [subscription] = synthesized.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "lambda"
    assert subscription["Properties"]["Endpoint"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.lambdas.functions["email_feedback"]), "Arn"]
    }
    # What SNS cannot deliver is dead-lettered too, into the same encrypted DLQ
    assert subscription["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synthesized.logical_id(stack.email.feedback_dlq), "Arn"]}
    }
    key = synthesized.resource(stack.storage.key)["Properties"]
    [sns] = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "SnsDeadLettersIntoTheEncryptedQueue"]
    assert sns["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_ses_may_use_the_key_only_for_this_account(synthesized: Synthesized) -> None:
    key = synthesized.resource(synthesized.stack.storage.key)["Properties"]
    [statement] = [s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert set(statement["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_feedback_that_keeps_failing_lands_in_its_dead_letter_queue(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    [config] = synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": synthesized.logical_id(stack.lambdas.functions["email_feedback"])}
    assert props["MaximumRetryAttempts"] == 2
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.email.feedback_dlq), "Arn"]
    }
