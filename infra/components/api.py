"""The REST API, built from shared/routes.py: one method per route, one Lambda proxy integration per function."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from aws_cdk import (
    Stack,
    aws_apigateway,
    aws_certificatemanager,
    aws_kms,
    aws_lambda,
    aws_logs,
    aws_route53,
    aws_route53_targets,
)
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.config import StageConfig
from infra.nag import Exemption, exempt
from shared.routes import BINARY_MEDIA_TYPES, ROUTES, Route

API_ID: Final = "RestApi"
ACCESS_LOGS_ID: Final = "AccessLogs"
REQUEST_VALIDATOR_ID: Final = "RequestValidator"
EXECUTION_LOGS_ID: Final = "ExecutionLogs"
DOMAIN_ID: Final = "CustomDomain"
CERTIFICATE_ID: Final = "Certificate"
ALIAS_RECORD_ID: Final = "AliasRecord"
THROTTLING_RATE_LIMIT: Final = 50  # requests per second, steady state, per stage
THROTTLING_BURST_LIMIT: Final = 100
# X-Ray tracing of the stage is off on purpose: API Gateway's trace segments record the full
# request URL, and pay links carry their bearer token in the path (`/pay/{token}`). The functions
# are traced (X-Ray active), without the URL.
STAGE_TRACING_ENABLED: Final = False

AUTHORIZATION: Final[Mapping[str, aws_apigateway.AuthorizationType]] = {
    "iam": aws_apigateway.AuthorizationType.IAM,
    "none": aws_apigateway.AuthorizationType.NONE,
    "session": aws_apigateway.AuthorizationType.NONE,  # the console function admits its sessions itself
}

# Why a function's routes may go without AWS-side authorisation; a new unauthenticated function
# must add its reason here, or the synth fails.
UNAUTHENTICATED_REASONS: Final[Mapping[str, str]] = {
    "checkout": "Payers are not account holders: each pay page is authorised by its pay link's 256-bit "
    "token (stored only as a hash, scoped to one invoice, expiring, revocable), checked by the "
    "function; /health is a liveness probe that returns no data.",
    "account": "Customers are not IAM principals or Cognito users: the account's pages are admitted by the "
    "function, with a server-side session opened by a one-time code sent by email (6 digits, 10 minutes, 5 tries, "
    "stored only as a salted hash, rate-limited per address and per client) in an HttpOnly, Secure, "
    "SameSite=Strict cookie scoped to /account; every form is CSRF-checked; step-up codes guard payment changes.",
    "webhooks": "Stripe cannot sign with SigV4 or a Cognito token: the function verifies the "
    "Stripe-Signature HMAC over the raw body, with the webhook secret, before anything is parsed or stored.",
    "console": "The console's own sign-in pages talk to Cognito from the server (password, then TOTP): a "
    "Cognito authorizer would need a token before the sign-in page that obtains it. Every other page is "
    "admitted by the function only with a server-side session that passed MFA (HttpOnly, Secure, "
    "SameSite=Strict cookie, CSRF-checked forms, roles from the Cognito groups).",
}
OPERATOR_NO_COGNITO_REASON: Final = (
    "The operator API is called by the operator's systems, not end users: it is authorised with AWS "
    "IAM (SigV4), so there is no Cognito user pool."
)

_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")


def path_parameters(path: str) -> list[str]:
    return _PATH_PARAMETER.findall(path)


class PayportalApi(Construct):
    """REST API; `methods` maps each route of shared/routes.py to its API Gateway method."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Mapping[str, aws_lambda.IFunction],
        log_key: aws_kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._log_key = log_key
        self.access_logs = self._build_access_logs()
        self.rest_api = self._build_rest_api()
        self.execution_logs = self._build_execution_logs()
        self.domain = self._build_custom_domain() if config.domain_name else None
        self.request_validator = self._build_request_validator()
        integrations = {name: self._build_integration(function) for name, function in functions.items()}
        self.methods: dict[Route, aws_apigateway.Method] = {
            route: self._build_method(route, integrations[route.function]) for route in ROUTES
        }

    @property
    def stage_name(self) -> str:
        return self._config.stage

    @property
    def invoke_url(self) -> str:
        """Where pay links point: the custom domain, else the stage's URL built from the API id (not
        `RestApi.url`, which references the Stage, which depends on every Method, which depends on the
        functions: a function whose environment used it would depend on itself)."""
        if self._config.domain_name:
            return self._config.custom_origin
        stack = Stack.of(self)
        return f"https://{self.rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{self.stage_name}"

    @property
    def url(self) -> str:
        """The API's base URL, ending in `/` (the webhook is `{url}webhooks/stripe`)."""
        return f"{self._config.custom_origin}/" if self._config.domain_name else self.rest_api.url

    def _build_access_logs(self) -> aws_logs.LogGroup:
        return aws_logs.LogGroup(
            self,
            ACCESS_LOGS_ID,
            encryption_key=self._log_key,
            retention=self._config.log_retention,
            removal_policy=self._config.disposable_removal_policy,
        )

    def _build_rest_api(self) -> aws_apigateway.RestApi:
        rest_api = aws_apigateway.RestApi(
            self,
            API_ID,
            rest_api_name=f"payportal-{self._config.stage}",
            description="payportal: pay pages, Stripe webhooks, operator API v1",
            endpoint_types=[aws_apigateway.EndpointType.REGIONAL],
            # With a custom domain, that is the only way in: its TLS 1.2 policy is the one that applies,
            # and pay links have one origin.
            disable_execute_api_endpoint=bool(self._config.domain_name),
            # Execution logs (errors only) need API Gateway's account-level CloudWatch role.
            cloud_watch_role=True,
            # Every type binary, so PDFs reach browsers (shared.routes.BINARY_MEDIA_TYPES); request bodies
            # arrive base64-encoded and each function decodes them (the webhook signature: on those bytes).
            binary_media_types=list(BINARY_MEDIA_TYPES),
            deploy_options=aws_apigateway.StageOptions(
                stage_name=self._config.stage,
                tracing_enabled=STAGE_TRACING_ENABLED,
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
                logging_level=aws_apigateway.MethodLoggingLevel.ERROR,
                # Never log request or response bodies: they hold customer data and tokens.
                data_trace_enabled=False,
                metrics_enabled=True,
                access_log_destination=aws_apigateway.LogGroupLogDestination(self.access_logs),
                # resourcePath is the route template (`/pay/{token}`), never the token itself.
                access_log_format=aws_apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        cloud_watch_role = rest_api.node.find_child("CloudWatchRole")
        NagSuppressions.add_resource_suppressions(
            cloud_watch_role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason="API Gateway's account-level logging role; AmazonAPIGatewayPushToCloudWatchLogs "
                    "is the policy AWS publishes for exactly this role.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                    ],
                )
            ],
        )
        exempt(
            rest_api.deployment_stage,
            Exemption(
                "Stage tracing is off on purpose: API Gateway's trace segments record the request URL, and pay "
                "links carry their bearer token in the path. The functions are traced.",
                nag=("Serverless-APIGWXrayEnabled",),
                checkov=("CKV_AWS_73",),
            ),
            Exemption(
                "No response may be cached: each is for one payer's pay link, one operator request or one Stripe "
                "event, and balances change with every payment. A cache would serve stale balances or one "
                "customer's page to another; with no cache there is nothing to encrypt.",
                nag=("PCI.DSS.321-APIGWCacheEnabledAndEncrypted",),
                checkov=("CKV_AWS_120",),
            ),
            Exemption(
                "A stage client certificate lets an HTTP backend authenticate API Gateway. Every integration here "
                "is a Lambda proxy, invoked under the function's resource policy, which admits only this API; "
                "there is no HTTP backend to present a certificate to.",
                nag=("PCI.DSS.321-APIGWSSLEnabled",),
            ),
        )
        return rest_api

    def _build_execution_logs(self) -> aws_logs.LogGroup:
        """The group API Gateway writes execution logs (errors) to, made here so that it is encrypted and
        expires like the others; left to API Gateway it would be neither."""
        logs = aws_logs.LogGroup(
            self,
            EXECUTION_LOGS_ID,
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{self._config.stage}",
            encryption_key=self._log_key,
            retention=self._config.log_retention,
            removal_policy=self._config.disposable_removal_policy,
        )
        self.rest_api.deployment_stage.node.add_dependency(logs)
        return logs

    def _build_custom_domain(self) -> aws_apigateway.DomainName:
        config = self._config
        zone = (
            aws_route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=config.hosted_zone_id, zone_name=config.hosted_zone_name
            )
            if config.hosted_zone_id
            else None
        )
        if config.certificate_arn:
            certificate = aws_certificatemanager.Certificate.from_certificate_arn(
                self, CERTIFICATE_ID, config.certificate_arn
            )
        else:
            assert zone is not None  # StageConfig requires a certificate or a zone with a domain
            certificate = aws_certificatemanager.Certificate(
                self,
                CERTIFICATE_ID,
                domain_name=config.domain_name,
                validation=aws_certificatemanager.CertificateValidation.from_dns(zone),
            )
        domain = aws_apigateway.DomainName(
            self,
            DOMAIN_ID,
            domain_name=config.domain_name,
            certificate=certificate,
            endpoint_type=aws_apigateway.EndpointType.REGIONAL,
            security_policy=aws_apigateway.SecurityPolicy.TLS_1_2,
        )
        domain.add_base_path_mapping(self.rest_api, stage=self.rest_api.deployment_stage)
        if zone is not None:
            aws_route53.ARecord(
                self,
                ALIAS_RECORD_ID,
                zone=zone,
                record_name=config.domain_name,
                target=aws_route53.RecordTarget.from_alias(aws_route53_targets.ApiGatewayDomain(domain)),
            )
        return domain

    def _build_request_validator(self) -> aws_apigateway.RequestValidator:
        # Path parameters are declared required on every method; bodies are validated by the
        # functions (Powertools + pydantic), which own the request models.
        return self.rest_api.add_request_validator(
            REQUEST_VALIDATOR_ID, validate_request_body=True, validate_request_parameters=True
        )

    def _build_integration(self, function: aws_lambda.IFunction) -> aws_apigateway.LambdaIntegration:
        # One invoke permission per function, for this API (not one per method: 120 methods made the stack's
        # resources pass CloudFormation's 500). API Gateway still invokes a function only through the methods
        # whose integration names it; the console's test button needs IAM on the API. docs/decisions.md, 124.
        return aws_apigateway.LambdaIntegration(function, proxy=True, scope_permission_to_method=False)

    def _build_method(self, route: Route, integration: aws_apigateway.LambdaIntegration) -> aws_apigateway.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        method = resource.add_method(
            route.method,
            integration,
            authorization_type=AUTHORIZATION[route.auth],
            request_validator=self.request_validator,
            request_parameters={f"method.request.path.{name}": True for name in path_parameters(route.path)},
        )
        self._suppress_authorization_findings(route, method)
        return method

    def _suppress_authorization_findings(self, route: Route, method: aws_apigateway.Method) -> None:
        if route.auth == "iam":
            exempt(method, Exemption(OPERATOR_NO_COGNITO_REASON, nag=("AwsSolutions-COG4",)))
            return
        reason = UNAUTHENTICATED_REASONS.get(route.function)
        if reason is None:
            raise ValueError(
                f"{route.method} {route.path} has no authorisation and {route.function!r} no reason in "
                "UNAUTHENTICATED_REASONS"
            )
        # CKV_AWS_59: "open access to back-end resources": these routes are open by design, authorised inside.
        exempt(method, Exemption(reason, nag=("AwsSolutions-APIG4", "AwsSolutions-COG4"), checkov=("CKV_AWS_59",)))
