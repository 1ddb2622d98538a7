"""The function factory: one Lambda function per folder under `functions/`, each with its own role and logs.

Every function runs the same way (Python 3.13 on arm64, X-Ray active, Powertools settings) and
shares one dependency layer; what differs is its code asset, its role's grants (given by the
constructs of the resources it uses) and its memory and timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import Annotations, Duration, aws_iam, aws_kms, aws_lambda, aws_logs
from constructs import Construct

from infra import bundling
from infra.config import StageConfig
from infra.nag import Exemption, exempt
from shared.routes import HTTP_FUNCTIONS, QUEUE_FUNCTIONS, SCHEDULED_FUNCTIONS, SES_EVENT_FUNCTIONS, STREAM_FUNCTIONS

FUNCTION_NAMES: Final = (
    *HTTP_FUNCTIONS,
    *STREAM_FUNCTIONS,
    *SCHEDULED_FUNCTIONS,
    *SES_EVENT_FUNCTIONS,
    *QUEUE_FUNCTIONS,
)

RUNTIME: Final = aws_lambda.Runtime.PYTHON_3_13
ARCHITECTURE: Final = aws_lambda.Architecture.ARM_64
HANDLER_TEMPLATE: Final = "functions.{name}.handler.lambda_handler"

DEFAULT_MEMORY_MB: Final = 512
DEFAULT_TIMEOUT_SECONDS: Final = 15  # HTTP functions; API Gateway gives up after 29 s anyway
# The imports worker holds an uploaded file of up to 50 MB and its checked rows while it checks them; memory
# also buys it the CPU the check needs (Lambda gives CPU in proportion to memory).
MEMORY_MB: Final[Mapping[str, int]] = {"imports": 1536}
# Concurrency reserved (and so capped) where a function's parallelism would exceed a partner's rate limit.
# Only where the context allows it (`payportal:reservedConcurrency`, on in prod by default): reserving
# fails on accounts whose concurrency quota is still the new-account 10.
RESERVED_CONCURRENCY: Final[Mapping[str, int]] = {
    # SES accepts a fixed number of emails per second per account (14 when out of the sandbox, at first);
    # each outbox invocation sends its batch one by one, so two at once stay near it. Raise with the quota.
    # Throttled stream batches wait and are retried; they do not count as failed deliveries.
    "outbox": 2,
    # Stripe allows 100 requests per second in live mode (25 in test mode); a charge run makes two per
    # charge, one after another. Two runs at once (the hourly one and `payportal jobs run charges`) at most.
    "charges": 2,
    # One reconciliation at a time: two would read the same events and race on the same cursor.
    "reconcile": 1,
}
UNCAPPED_REASON: Final = (
    "Not capped on purpose: this function serves payers, operators, Stripe or a schedule at the rate they come, "
    "within the account's concurrency quota and the API's throttling; a reserved cap would turn a busy hour into "
    "throttled pay pages or delayed webhooks. Concurrency is reserved only where a partner's rate limit calls "
    "for it (RESERVED_CONCURRENCY in infra/components/lambdas.py)."
)
CAP_OFF_REASON: Final = (
    "Capped in prod (RESERVED_CONCURRENCY in infra/components/lambdas.py); this stage turns the cap off "
    "(payportal:reservedConcurrency), as it must on accounts whose concurrency quota is still the new-account "
    "10, which leaves nothing to reserve."
)
TIMEOUT_SECONDS: Final[Mapping[str, int]] = {
    "outbox": 60,  # a stream batch of emails and events
    "reminders": 300,  # pages of due invoices; it stops starting pages 20 s before this
    "charges": 300,  # pages of due plans, one Stripe call each; same margin
    "balances": 120,  # 8 index partitions of a key and two numbers per open invoice: seconds per million
    "reconcile": 900,  # pages of Stripe's events at a paced rate; it stops reading 20 s before this
    "digest": 60,  # a few hundred counter items and at most 8 x 20 pages of due work
    # customers whose retention ended today: a handful a day, each a few Stripe calls and a transaction per record
    "retention": 300,
    # one chunk of 250 rows, a few DynamoDB requests each (benchmarks/imports.py); or the check of an uploaded file
    # of up to 100,000 rows, its 400 chunks kept and queued (about 10 s on one core here)
    "imports": 120,
    "webhook_delivery": 60,  # a batch of 10 deliveries, each at most 5 s to connect and 5 s to read
}
# Functions that read the morning digest's settings: the digest run (its "today") and the outbox (who gets it).
DIGEST_FUNCTIONS: Final = ("digest", "outbox")

# Environment variable names; shared/config.py reads them.
ENV_TABLE: Final = "PAYPORTAL_TABLE"
ENV_EVENT_BUS: Final = "PAYPORTAL_EVENT_BUS"
ENV_SENDER_EMAIL: Final = "PAYPORTAL_SENDER_EMAIL"
ENV_PUBLIC_BASE_URL: Final = "PAYPORTAL_PUBLIC_BASE_URL"
ENV_SUPPORT_CONTACT: Final = "PAYPORTAL_SUPPORT_CONTACT"
ENV_PAYMENT_METHOD_TYPES: Final = "PAYPORTAL_PAYMENT_METHOD_TYPES"
ENV_STRIPE_SECRET_ID: Final = "PAYPORTAL_STRIPE_SECRET_ID"
ENV_BUSINESS_NAME: Final = "PAYPORTAL_BUSINESS_NAME"
ENV_BUSINESS_ADDRESS: Final = "PAYPORTAL_BUSINESS_ADDRESS"
ENV_BUSINESS_TAX_ID: Final = "PAYPORTAL_BUSINESS_TAX_ID"
ENV_BUSINESS_LOGO: Final = "PAYPORTAL_BUSINESS_LOGO"
ENV_SES_CONFIGURATION_SET: Final = "PAYPORTAL_SES_CONFIGURATION_SET"
ENV_REMINDERS_QUEUE_URL: Final = "PAYPORTAL_REMINDERS_QUEUE_URL"
ENV_DIGEST_RECIPIENTS: Final = "PAYPORTAL_DIGEST_RECIPIENTS"
ENV_DIGEST_TIMEZONE: Final = "PAYPORTAL_DIGEST_TIMEZONE"
ENV_FINANCIAL_RETENTION_DAYS: Final = "PAYPORTAL_FINANCIAL_RETENTION_DAYS"


def metrics_namespace_for(stage: str) -> str:
    """Where the functions' EMF metrics go: one namespace per stage, so dev never pollutes prod's alarms."""
    return f"payportal-{stage}"


POWERTOOLS_LOG_LEVEL: Final = "INFO"

LAYER_ID: Final = "DependenciesLayer"


def handler_for(name: str) -> str:
    return HANDLER_TEMPLATE.format(name=name)


def service_name_for(name: str) -> str:
    return f"payportal-{name}"


def construct_id_for(name: str) -> str:
    """`operator_api` -> `OperatorApi`: the stem of the function's construct ids."""
    return "".join(part.capitalize() for part in name.split("_"))


class Lambdas(Construct):
    """Builds every function in FUNCTION_NAMES; grants are added by the constructs that own the resources."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        table_name: str,
        event_bus_name: str,
        stripe_secret_id: str,
        ses_configuration_set: str,
        log_key: aws_kms.IKey | None = None,
        environment_key: aws_kms.IKey | None = None,
        root: Path = bundling.REPO_ROOT,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._root = root
        self._log_key = log_key
        self._environment_key = environment_key
        self._environment = {
            ENV_TABLE: table_name,
            ENV_EVENT_BUS: event_bus_name,
            ENV_SENDER_EMAIL: config.sender_email,
            ENV_SUPPORT_CONTACT: config.support_contact,
            ENV_PAYMENT_METHOD_TYPES: config.payment_method_types,
            ENV_STRIPE_SECRET_ID: stripe_secret_id,
            ENV_BUSINESS_NAME: config.business_name,
            ENV_SES_CONFIGURATION_SET: ses_configuration_set,
            # Every function may commit the change that makes an invoice final, which stamps its retention TTL.
            ENV_FINANCIAL_RETENTION_DAYS: str(config.financial_retention_days),
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace_for(config.stage),
            "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVEL,
        }
        if config.public_base_url:
            self._environment[ENV_PUBLIC_BASE_URL] = config.public_base_url
        # The business's identity on documents (PDFs), set only when configured.
        for name, setting in (
            (ENV_BUSINESS_ADDRESS, config.business_address),
            (ENV_BUSINESS_TAX_ID, config.business_tax_id),
            (ENV_BUSINESS_LOGO, config.business_logo),
        ):
            if setting:
                self._environment[name] = setting
        self.layer = self._build_dependencies_layer()
        self.roles: dict[str, aws_iam.Role] = {}
        self.log_groups: dict[str, aws_logs.LogGroup] = {}
        self.functions: dict[str, aws_lambda.Function] = {name: self._build_function(name) for name in FUNCTION_NAMES}

    def set_public_base_url(self, url: str) -> None:
        """Used when no public URL is configured: the stack passes the API's invoke URL once the API exists."""
        for function in self.functions.values():
            function.add_environment(ENV_PUBLIC_BASE_URL, url)

    def _digest_environment(self, name: str) -> dict[str, str]:
        if name == "operator_api":  # the accounting exports' days are the operator's (shared/services/exports.py)
            return {ENV_DIGEST_TIMEZONE: self._config.digest_timezone}
        if name not in DIGEST_FUNCTIONS:
            return {}
        return {
            ENV_DIGEST_RECIPIENTS: ",".join(self._config.digest_recipients),
            ENV_DIGEST_TIMEZONE: self._config.digest_timezone,
        }

    def _build_dependencies_layer(self) -> aws_lambda.LayerVersion:
        return aws_lambda.LayerVersion(
            self,
            LAYER_ID,
            code=bundling.dependency_layer_code(self._root),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="payportal runtime dependencies from requirements.lock",
            removal_policy=self._config.disposable_removal_policy,
        )

    def _build_role(self, name: str) -> aws_iam.Role:
        # No AWSLambdaBasicExecutionRole: its logs permissions cover every log group in the account.
        return aws_iam.Role(
            self,
            f"{construct_id_for(name)}Role",
            assumed_by=aws_iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"payportal {name} function",
        )

    def _build_log_group(self, name: str) -> aws_logs.LogGroup:
        return aws_logs.LogGroup(
            self,
            f"{construct_id_for(name)}Logs",
            encryption_key=self._log_key,
            retention=self._config.log_retention,
            removal_policy=self._config.disposable_removal_policy,
        )

    def _build_function(self, name: str) -> aws_lambda.Function:
        role = self._build_role(name)
        log_group = self._build_log_group(name)
        log_group.grant_write(role)
        reserved = RESERVED_CONCURRENCY.get(name) if self._config.reserve_concurrency else None
        function = aws_lambda.Function(
            self,
            f"{construct_id_for(name)}Function",
            description=f"payportal {name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler_for(name),
            code=bundling.function_code(name, self._root),
            layers=[self.layer],
            role=role,
            log_group=log_group,
            tracing=aws_lambda.Tracing.ACTIVE,
            memory_size=MEMORY_MB.get(name, DEFAULT_MEMORY_MB),
            timeout=Duration.seconds(TIMEOUT_SECONDS.get(name, DEFAULT_TIMEOUT_SECONDS)),
            environment={
                **self._environment,
                **self._digest_environment(name),
                "POWERTOOLS_SERVICE_NAME": service_name_for(name),
            },
            # The settings hold no secret, but they name the table, the secret and the bus: encrypted at rest with
            # the stack's own key, as the data is, rather than Lambda's AWS-managed one.
            environment_encryption=self._environment_key,
            reserved_concurrent_executions=reserved,
        )
        if reserved is None:
            reason = CAP_OFF_REASON if name in RESERVED_CONCURRENCY else UNCAPPED_REASON
            exempt(function, Exemption(reason, checkov=("CKV_AWS_115",)))
        # The handler is written separately; a missing one must be visible at synth, not at first call.
        if not (self._root / "functions" / name / "handler.py").is_file():
            Annotations.of(function).add_warning_v2(
                "payportal:missing-handler", f"functions/{name}/handler.py does not exist yet"
            )
        self.roles[name] = role
        self.log_groups[name] = log_group
        return function
