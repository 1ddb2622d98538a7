"""AWS WAF in front of the API stage: AWS's managed common and known-bad-inputs rule sets, a rate limit per
client IP, and a request-body size limit.

The common rule set's own 8 KB body rule is counted, not enforced: Stripe's webhook events can be larger.
Bodies are instead limited to 64 KB by our rule, with WAF inspecting up to that much of each body.

Requests a rule blocked or counted are logged to an encrypted log group (WAF requires the `aws-waf-logs-`
name prefix), with the URI path, Authorization and Cookie redacted: pay links carry their bearer token in
the path, and operator requests their SigV4 signature in the header.
"""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import ArnFormat, Stack, aws_kms, aws_logs, aws_wafv2
from constructs import Construct

from infra.config import StageConfig

WEB_ACL_ID: Final = "WebAcl"
ASSOCIATION_ID: Final = "StageAssociation"
LOGS_ID: Final = "Logs"
LOGGING_ID: Final = "Logging"
LOGGED_ACTIONS: Final = ("BLOCK", "COUNT")
REDACTED_HEADERS: Final = ("authorization", "cookie")
# Requests per client IP in any 5 minutes; a payer or Stripe never comes close, a scraper does.
RATE_LIMIT_PER_IP: Final = 1000
# The console's sign-in steps (password, new password, TOTP codes): a person needs a handful in 5 minutes; a
# script guessing passwords or codes is cut off here, before Cognito's own lockouts and threat protection.
SIGN_IN_RATE_LIMIT_PER_IP: Final = 100  # WAF's smallest limit is 10
SIGN_IN_PATH: Final = "/console/sign-in"
MAX_BODY_BYTES: Final = 64 * 1024
MANAGED_RULE_SETS: Final = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
COUNTED_MANAGED_RULES: Final = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}


def _visibility(name: str) -> aws_wafv2.CfnWebACL.VisibilityConfigProperty:
    return aws_wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class Firewall(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        stage_arn: str,
        log_key: aws_kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.web_acl = aws_wafv2.CfnWebACL(
            self,
            WEB_ACL_ID,
            scope="REGIONAL",
            default_action=aws_wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"payportal-{config.stage}-waf"),
            association_config=aws_wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": aws_wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit="KB_64"
                    )
                }
            ),
            rules=[*self._managed_rules(), self._rate_rule(), self._body_size_rule(), self._sign_in_rate_rule()],
        )
        self.association = aws_wafv2.CfnWebACLAssociation(
            self, ASSOCIATION_ID, resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        self.logs, self.logging = self._build_logging(log_key)

    @staticmethod
    def log_group_name_for(stage: str) -> str:
        return f"aws-waf-logs-payportal-{stage}"

    def _build_logging(
        self, log_key: aws_kms.IKey | None
    ) -> tuple[aws_logs.LogGroup, aws_wafv2.CfnLoggingConfiguration]:
        name = self.log_group_name_for(self._config.stage)
        logs = aws_logs.LogGroup(
            self,
            LOGS_ID,
            log_group_name=name,
            encryption_key=log_key,
            retention=self._config.log_retention,
            removal_policy=self._config.disposable_removal_policy,
        )
        # WAF wants the log group's ARN without the `:*` that LogGroup.log_group_arn ends with.
        destination = Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        redacted = [aws_wafv2.CfnLoggingConfiguration.FieldToMatchProperty(uri_path={})] + [
            aws_wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
            for header in REDACTED_HEADERS
        ]
        logging = aws_wafv2.CfnLoggingConfiguration(
            self,
            LOGGING_ID,
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[destination],
            redacted_fields=redacted,
            # Allowed requests are in the API's access logs already; WAF logs what a rule acted on.
            logging_filter={
                "DefaultBehavior": "DROP",
                "Filters": [
                    {
                        "Behavior": "KEEP",
                        "Requirement": "MEETS_ANY",
                        "Conditions": [{"ActionCondition": {"Action": action}} for action in LOGGED_ACTIONS],
                    }
                ],
            },
        )
        logging.node.add_dependency(logs)
        return logs, logging

    @staticmethod
    def stage_arn(scope: Construct, rest_api_id: str, stage_name: str) -> str:
        stack = Stack.of(scope)
        return f"arn:{stack.partition}:apigateway:{stack.region}::/restapis/{rest_api_id}/stages/{stage_name}"

    def _managed_rules(self) -> list[Any]:
        rules = []
        for priority, name in enumerate(MANAGED_RULE_SETS):
            statement = aws_wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    aws_wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=aws_wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in COUNTED_MANAGED_RULES.get(name, ())
                ]
                or None,
            )
            rules.append(
                aws_wafv2.CfnWebACL.RuleProperty(
                    name=name,
                    priority=priority,
                    statement=aws_wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=statement),
                    override_action=aws_wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    visibility_config=_visibility(name),
                )
            )
        return rules

    def _rate_rule(self) -> Any:
        return aws_wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=len(MANAGED_RULE_SETS),
            statement=aws_wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=aws_wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=RATE_LIMIT_PER_IP, aggregate_key_type="IP", evaluation_window_sec=300
                )
            ),
            action=aws_wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=_visibility("RateLimitPerIp"),
        )

    def _sign_in_rate_rule(self) -> Any:
        sign_in_posts = aws_wafv2.CfnWebACL.StatementProperty(
            and_statement=aws_wafv2.CfnWebACL.AndStatementProperty(
                statements=[
                    aws_wafv2.CfnWebACL.StatementProperty(
                        byte_match_statement=aws_wafv2.CfnWebACL.ByteMatchStatementProperty(
                            field_to_match=aws_wafv2.CfnWebACL.FieldToMatchProperty(method={}),
                            positional_constraint="EXACTLY",
                            search_string="POST",
                            text_transformations=[
                                aws_wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                            ],
                        )
                    ),
                    aws_wafv2.CfnWebACL.StatementProperty(
                        byte_match_statement=aws_wafv2.CfnWebACL.ByteMatchStatementProperty(
                            field_to_match=aws_wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                            positional_constraint="CONTAINS",  # under a stage's path too (/prod/console/...)
                            search_string=SIGN_IN_PATH,
                            text_transformations=[
                                aws_wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")
                            ],
                        )
                    ),
                ]
            )
        )
        return aws_wafv2.CfnWebACL.RuleProperty(
            name="ConsoleSignInRateLimitPerIp",
            priority=len(MANAGED_RULE_SETS) + 2,
            statement=aws_wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=aws_wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=SIGN_IN_RATE_LIMIT_PER_IP,
                    aggregate_key_type="IP",
                    evaluation_window_sec=300,
                    scope_down_statement=sign_in_posts,
                )
            ),
            action=aws_wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=_visibility("ConsoleSignInRateLimitPerIp"),
        )

    def _body_size_rule(self) -> Any:
        return aws_wafv2.CfnWebACL.RuleProperty(
            name="BodySizeLimit",
            priority=len(MANAGED_RULE_SETS) + 1,
            statement=aws_wafv2.CfnWebACL.StatementProperty(
                size_constraint_statement=aws_wafv2.CfnWebACL.SizeConstraintStatementProperty(
                    field_to_match=aws_wafv2.CfnWebACL.FieldToMatchProperty(
                        body=aws_wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                    ),
                    comparison_operator="GT",
                    size=MAX_BODY_BYTES,
                    text_transformations=[aws_wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
                )
            ),
            action=aws_wafv2.CfnWebACL.RuleActionProperty(block={}),
            visibility_config=_visibility("BodySizeLimit"),
        )
