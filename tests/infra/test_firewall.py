"""AWS WAF guards the API stage: managed rule sets, a per-IP rate limit and a body-size limit."""

from __future__ import annotations

import json
from typing import Any

from infra.components.firewall import MAX_BODY_BYTES, RATE_LIMIT_PER_IP, SIGN_IN_RATE_LIMIT_PER_IP
from tests.infra.conftest import Synthesized


def web_acl(synthesized: Synthesized) -> dict[str, Any]:
    [acl] = synthesized.resources("AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def test_the_web_acl_runs_the_managed_rule_sets_a_rate_limit_and_a_body_limit(synthesized: Synthesized) -> None:
    acl = web_acl(synthesized)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert set(rules) == {
        "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "RateLimitPerIp", "BodySizeLimit",
        "ConsoleSignInRateLimitPerIp",
    }  # fmt: skip
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    # Stripe's events can exceed the managed 8 KB body rule: counted there, limited by our own rule
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    rate = rules["RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"] == {
        "Limit": RATE_LIMIT_PER_IP, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
    }  # fmt: skip
    assert rate["Action"] == {"Block": {}}
    size = rules["BodySizeLimit"]["Statement"]["SizeConstraintStatement"]
    assert (size["ComparisonOperator"], size["Size"]) == ("GT", MAX_BODY_BYTES)
    assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    assert acl["AssociationConfig"]["RequestBody"]["API_GATEWAY"]["DefaultSizeInspectionLimit"] == "KB_64"
    assert all(rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] for rule in acl["Rules"])


def test_the_web_acl_is_associated_with_the_api_stage(synthesized: Synthesized) -> None:
    [association] = synthesized.resources("AWS::WAFv2::WebACLAssociation").values()
    props = association["Properties"]
    assert props["WebACLArn"] == {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.firewall.web_acl), "Arn"]}
    arn = "".join(p if isinstance(p, str) else "" for p in props["ResourceArn"]["Fn::Join"][1])
    assert ":apigateway:" in arn and "/restapis/" in arn and "/stages/" in arn
    assert {"Ref": synthesized.logical_id(synthesized.stack.api.rest_api)} in props["ResourceArn"]["Fn::Join"][1]


def test_what_a_rule_blocked_or_counted_is_logged_encrypted_with_tokens_redacted(synthesized: Synthesized) -> None:
    [logging] = synthesized.resources("AWS::WAFv2::LoggingConfiguration").values()
    props = logging["Properties"]
    assert props["ResourceArn"] == {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.firewall.web_acl), "Arn"]}
    # WAF only writes to log groups named aws-waf-logs-*, given by an ARN without the trailing ":*"
    [destination] = props["LogDestinationConfigs"]
    assert json.dumps(destination).endswith(':log-group:aws-waf-logs-payportal-dev"]]}')
    logs = synthesized.resource(synthesized.stack.firewall.logs)["Properties"]
    assert logs["LogGroupName"] == "aws-waf-logs-payportal-dev"
    assert logs["KmsKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.storage.key), "Arn"]}
    # Pay links carry their token in the path; operator calls their signature in a header
    assert props["RedactedFields"] == [
        {"UriPath": {}}, {"SingleHeader": {"Name": "authorization"}}, {"SingleHeader": {"Name": "cookie"}},
    ]  # fmt: skip
    logged = props["LoggingFilter"]
    assert logged["DefaultBehavior"] == "DROP"
    [keep] = logged["Filters"]
    assert keep["Behavior"] == "KEEP"
    assert {c["ActionCondition"]["Action"] for c in keep["Conditions"]} == {"BLOCK", "COUNT"}


def test_console_sign_in_posts_have_a_tighter_rate_limit(synthesized: Synthesized) -> None:
    rules = {rule["Name"]: rule for rule in web_acl(synthesized)["Rules"]}
    rate = rules["ConsoleSignInRateLimitPerIp"]["Statement"]["RateBasedStatement"]
    assert (rate["Limit"], rate["AggregateKeyType"], rate["EvaluationWindowSec"]) == (
        SIGN_IN_RATE_LIMIT_PER_IP,
        "IP",
        300,
    )
    matches = [s["ByteMatchStatement"] for s in rate["ScopeDownStatement"]["AndStatement"]["Statements"]]
    assert {(m["PositionalConstraint"], m["SearchString"]) for m in matches} == {
        ("EXACTLY", "POST"), ("CONTAINS", "/console/sign-in"),
    }  # fmt: skip
    assert rules["ConsoleSignInRateLimitPerIp"]["Action"] == {"Block": {}}
