"""The composition root: real adapters, built once per container on first use.

The table, the AWS clients and the secret are every function's, so they are imported here. The adapters
only some functions use (SES and EventBridge, SQS, Stripe, Powertools idempotency, which loads boto3) are
imported by their builder (lazy: a function's cold start pays only for the adapters it calls).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from shared import config
from shared.adapters import aws, secrets
from shared.adapters.aws import client
from shared.adapters.dynamodb import DynamoLedger
from shared.config import BRANDING_DIR, settings
from shared.domain.documents import BusinessIdentity

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from shared.adapters.cognito import CognitoStaffAccounts, CognitoStaffDirectory  # lazy: see the docstring
    from shared.adapters.dynamodb.account import DynamoAccountStore
    from shared.adapters.dynamodb.console_sessions import DynamoConsoleSessions
    from shared.adapters.dynamodb.imports import DynamoImportStore
    from shared.adapters.dynamodb.privacy import DynamoPrivacy
    from shared.adapters.dynamodb.webhook_endpoints import DynamoWebhookEndpoints
    from shared.adapters.idempotency import PowertoolsOnce  # lazy: see the module docstring
    from shared.adapters.import_files import S3ImportFiles
    from shared.adapters.notifications import EventBridgePublisher, SesMailer
    from shared.adapters.secrets import StripeCredentials
    from shared.adapters.stripe_gateway import StripeGateway  # lazy: see the module docstring
    from shared.adapters.webhook_http import SafeWebhookSender  # lazy: see the module docstring
    from shared.adapters.work_queue import SqsWorkQueue  # lazy: see the module docstring
    from shared.domain.records import Customer, ProcessorFee
    from shared.services.checkout import CheckoutConfig
    from shared.services.gateway import (
        ChargeOutcome,
        CheckoutSession,
        CheckoutSessionRequest,
        CheckoutSessionState,
        EventListPage,
        OffSessionCharge,
        PaymentGateway,
        PaymentMethodUsed,
        RefundCreated,
        RefundRequest,
        SavedPaymentMethods,
        SessionClosed,
        SetupSessionRequest,
    )
    from shared.services.outbox import Branding
    from shared.services.pay_page import PayPageConfig
    from shared.services.stripe_events.facts import StripeFact
    from shared.services.stripe_events.replay import StripeEvents


@cache
def ledger() -> DynamoLedger:
    return DynamoLedger(client("dynamodb"), settings().table_name, settings().financial_retention_days)


def stripe_credentials() -> StripeCredentials:
    return secrets.stripe_credentials(settings().stripe_secret_id)  # cached for five minutes


class _LazyGateway:
    """Fetches the Stripe key and builds the SDK client only when a call is really made, so a request
    that fails validation costs no secret read and no SDK import."""

    def ensure_customer(self, customer: Customer) -> str:
        return _gateway(stripe_credentials().api_key).ensure_customer(customer)

    def create_checkout_session(self, request: CheckoutSessionRequest) -> CheckoutSession:
        return _gateway(stripe_credentials().api_key).create_checkout_session(request)

    def expire_checkout_session(self, session_id: str) -> SessionClosed:
        return _gateway(stripe_credentials().api_key).expire_checkout_session(session_id)

    def charge_off_session(self, request: OffSessionCharge) -> ChargeOutcome:
        return _gateway(stripe_credentials().api_key).charge_off_session(request)

    def create_setup_session(self, request: SetupSessionRequest) -> CheckoutSession:
        return _gateway(stripe_credentials().api_key).create_setup_session(request)

    def payment_method_used(self, payment_intent_id: str) -> PaymentMethodUsed | None:
        return _gateway(stripe_credentials().api_key).payment_method_used(payment_intent_id)

    def saved_payment_methods(self, stripe_customer_id: str) -> SavedPaymentMethods:
        return _gateway(stripe_credentials().api_key).saved_payment_methods(stripe_customer_id)

    def detach_payment_method(self, payment_method_id: str) -> None:
        _gateway(stripe_credentials().api_key).detach_payment_method(payment_method_id)

    def choose_payment_method(self, stripe_customer_id: str, payment_method_id: str) -> None:
        _gateway(stripe_credentials().api_key).choose_payment_method(stripe_customer_id, payment_method_id)

    def update_customer(self, stripe_customer_id: str, customer: Customer) -> None:
        _gateway(stripe_credentials().api_key).update_customer(stripe_customer_id, customer)

    def delete_customer(self, stripe_customer_id: str) -> None:
        _gateway(stripe_credentials().api_key).delete_customer(stripe_customer_id)

    def create_refund(self, request: RefundRequest) -> RefundCreated:
        return _gateway(stripe_credentials().api_key).create_refund(request)

    def retrieve_event(self, event_id: str) -> StripeFact | None:
        return _gateway(stripe_credentials().api_key).retrieve_event(event_id)

    def payment_intent_status(self, payment_intent_id: str) -> str | None:
        return _gateway(stripe_credentials().api_key).payment_intent_status(payment_intent_id)

    def refund_status_at_stripe(self, refund_id: str) -> str | None:
        return _gateway(stripe_credentials().api_key).refund_status_at_stripe(refund_id)

    def payment_fee(self, payment_intent_id: str) -> ProcessorFee | None:
        return _gateway(stripe_credentials().api_key).payment_fee(payment_intent_id)

    def checkout_session_status(self, session_id: str) -> CheckoutSessionState | None:
        return _gateway(stripe_credentials().api_key).checkout_session_status(session_id)

    def list_events(
        self,
        *,
        types: tuple[str, ...],
        created_gte: int,
        created_lt: int,
        starting_after: str | None = None,
        limit: int = 100,
    ) -> EventListPage:
        return _gateway(stripe_credentials().api_key).list_events(
            types=types, created_gte=created_gte, created_lt=created_lt, starting_after=starting_after, limit=limit
        )


def gateway() -> PaymentGateway:
    # Keyed by the API key so a rotated key takes effect without a new container.
    return _LazyGateway()


def stripe_events() -> StripeEvents:
    """Stripe's events (a replay re-fetches one), through the same lazy client as `gateway`."""
    return _LazyGateway()


@cache
def _gateway(api_key: str) -> StripeGateway:
    from shared.adapters.stripe_gateway import StripeGateway  # lazy: see the module docstring

    return StripeGateway(api_key, settings().stripe_api_base)


# Services are imported where they are first needed: the webhook's cold path loads none of the pay page's.


def checkout_config() -> CheckoutConfig:
    """Where Checkout returns to and which payment methods it offers: configuration only, never the request."""
    from shared.services.checkout import CheckoutConfig  # lazy: see above

    config = settings()
    return CheckoutConfig(base_url=config.public_base_url, payment_method_types=config.payment_method_types)


def pay_page_config() -> PayPageConfig:
    from shared.services.pay_page import PayPageConfig  # lazy: see above

    return PayPageConfig(checkout=checkout_config(), promise_max_days=settings().promise_max_days)


def branding() -> Branding:
    """What emails say about the business, and where their pay links lead."""
    from shared.services.outbox import Branding  # lazy: see above

    config = settings()
    return Branding(
        business_name=config.business_name,
        support_contact=config.support_contact,
        public_base_url=config.public_base_url,
        pay_link_ttl_days=config.pay_link_ttl_days,
        digest_recipients=config.digest_recipients,
    )


@cache
def mailer() -> SesMailer:
    from shared.adapters.notifications import SesMailer  # lazy: see the module docstring

    config = settings()
    return SesMailer(client("ses"), config.sender_email, config.ses_configuration_set)


@cache
def publisher() -> EventBridgePublisher:
    from shared.adapters.notifications import EventBridgePublisher  # lazy: see the module docstring

    return EventBridgePublisher(client("events"), settings().event_bus_name)


@cache
def reminders_queue() -> SqsWorkQueue | None:
    """Where a dunning run out of time leaves the rest; None when no queue is configured."""
    from shared.adapters.work_queue import SqsWorkQueue  # lazy: see the module docstring

    url = settings().reminders_queue_url
    return SqsWorkQueue(client("sqs"), url) if url else None


@cache
def import_store() -> DynamoImportStore:
    from shared.adapters.dynamodb.imports import DynamoImportStore  # lazy: the operator API's and the worker's only

    return DynamoImportStore(client("dynamodb"), settings().table_name)


@cache
def import_files() -> S3ImportFiles:
    """Where files too large for one request are uploaded for an import (an S3 bucket)."""
    from shared.adapters.import_files import S3ImportFiles  # lazy: the operator API's and the worker's only

    bucket = settings().imports_bucket
    if not bucket:
        raise config.ConfigurationError("PAYPORTAL_IMPORTS_BUCKET is not set")
    return S3ImportFiles(client("s3"), bucket)


@cache
def imports_queue() -> SqsWorkQueue:
    """Where a bulk import's chunks wait for the worker (functions/imports)."""
    from shared.adapters.work_queue import SqsWorkQueue  # lazy: see the module docstring

    url = settings().imports_queue_url
    if not url:
        raise config.ConfigurationError("PAYPORTAL_IMPORTS_QUEUE_URL is not set")
    return SqsWorkQueue(client("sqs"), url)


# Replays of a creating POST within this time get the first result.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# The key prefix Powertools derived from the function that did this before it moved to shared/adapters:
# kept, so a replay of a request sent before a deploy still finds its record.
INVOICE_KEY_PREFIX = "functions.operator_api.views._idempotent_create.<locals>.create"
# Each creating route's records: (scope, key prefix).
_ONCE_SCOPES = {
    "invoice": ("create_invoice", INVOICE_KEY_PREFIX),
    "customer": ("create_customer", "create_customer"),
    "recurring": ("create_recurring", "create_recurring"),
    "refund": ("refund_payment", "refund_payment"),
    "offline_payment": ("record_offline_payment", "record_offline_payment"),
    "reversal": ("reverse_payment", "reverse_payment"),
    "credit_note": ("issue_credit_note", "issue_credit_note"),
    "pay_link": ("issue_pay_link", "issue_pay_link"),
    "stripe_event_replay": ("replay_stripe_event", "replay_stripe_event"),
    "webhook_endpoint": ("create_webhook_endpoint", "create_webhook_endpoint"),
    "webhook_secret": ("rotate_webhook_secret", "rotate_webhook_secret"),
    "webhook_retry": ("retry_webhook_delivery", "retry_webhook_delivery"),
    # The console's actions that would apply again if a form were sent twice (shared.services.console_actions).
    "console_action": ("console_action", "console_action"),
    "import": ("start_import", "start_import"),
    "erasure": ("erase_customer", "erase_customer"),
    "restriction": ("restrict_customer", "restrict_customer"),
}


@cache
def _run_once(kind: str) -> PowertoolsOnce:
    from shared.adapters.idempotency import PowertoolsOnce  # lazy: see the module docstring

    scope, key_prefix = _ONCE_SCOPES[kind]
    return PowertoolsOnce(
        client("dynamodb"),
        settings().table_name,
        scope=scope,
        key_prefix=key_prefix,
        ttl_seconds=IDEMPOTENCY_TTL_SECONDS,
    )


def run_once(kind: str, context: LambdaContext | None) -> PowertoolsOnce:
    """Runs one creating route's work once per key (`kind`: invoice, customer, recurring, refund); `context` lets
    a key left in progress by a timeout free up."""
    return _run_once(kind).within(context)


@cache
def staff_directory() -> CognitoStaffDirectory:
    """Cognito, for the console's sign-in."""
    from shared.adapters.cognito import CognitoStaffDirectory  # lazy: see the module docstring

    client_id = settings().console_client_id
    if not client_id:
        raise config.ConfigurationError("PAYPORTAL_CONSOLE_CLIENT_ID is not set")
    return CognitoStaffDirectory(client("cognito-idp"), client_id)


@cache
def staff_accounts() -> CognitoStaffAccounts:
    """Cognito's admin API on the console's pool, for the Users page."""
    from shared.adapters.cognito import CognitoStaffAccounts  # lazy: see the module docstring

    pool_id = settings().console_user_pool_id
    if not pool_id:
        raise config.ConfigurationError("PAYPORTAL_CONSOLE_USER_POOL_ID is not set")
    return CognitoStaffAccounts(client("cognito-idp"), pool_id)


@cache
def console_sessions() -> DynamoConsoleSessions:
    from shared.adapters.dynamodb.console_sessions import DynamoConsoleSessions  # lazy: the console's only

    return DynamoConsoleSessions(client("dynamodb"), settings().table_name)


@cache
def account_store() -> DynamoAccountStore:
    from shared.adapters.dynamodb.account import DynamoAccountStore  # lazy: the account's and the outbox's only

    return DynamoAccountStore(client("dynamodb"), settings().table_name)


@cache
def privacy() -> DynamoPrivacy:
    """A customer's records for their export, the audit trail by time, export links, incident notices."""
    from shared.adapters.dynamodb.privacy import DynamoPrivacy  # lazy: the export's and the incident tools' only

    return DynamoPrivacy(client("dynamodb"), settings().table_name)


@cache
def webhook_endpoints() -> DynamoWebhookEndpoints:
    from shared.adapters.dynamodb.webhook_endpoints import DynamoWebhookEndpoints  # lazy: webhooks' only

    return DynamoWebhookEndpoints(client("dynamodb"), settings().table_name)


@cache
def webhooks_queue() -> SqsWorkQueue:
    """The outbound webhook deliveries' queue: bus events in, one delivery per endpoint out."""
    from shared.adapters.work_queue import SqsWorkQueue  # lazy: see the module docstring

    url = settings().webhooks_queue_url
    if not url:
        raise config.ConfigurationError("PAYPORTAL_WEBHOOKS_QUEUE_URL is not set")
    return SqsWorkQueue(client("sqs"), url)


@cache
def webhook_sender() -> SafeWebhookSender:
    from shared.adapters.webhook_http import SafeWebhookSender  # lazy: see the module docstring

    return SafeWebhookSender(loopback_only=settings().local_stack)


def reset() -> None:
    """Forget every cached client and setting (tests, and the local stack after it changes the environment)."""
    cached_builders = (config.settings, aws.client, aws._session, ledger, _gateway, mailer, publisher, reminders_queue)
    webhooks = (webhook_endpoints, webhooks_queue, webhook_sender)
    for cached in (
        *cached_builders,
        _run_once,
        staff_directory,
        staff_accounts,
        console_sessions,
        account_store,
        privacy,
        import_store,
        import_files,
        imports_queue,
        *webhooks,
        business_identity,
    ):
        cached.cache_clear()
    secrets.clear_cache()


@cache
def business_identity() -> BusinessIdentity:
    """Who issues the customer's documents (PDFs): read once per container, the logo file too."""
    config = settings()
    logo = (BRANDING_DIR / config.business_logo).read_bytes() if config.business_logo else b""
    return BusinessIdentity(
        name=config.business_name,
        address=config.business_address,
        tax_id=config.business_tax_id,
        support_contact=config.support_contact,
        logo=logo,
    )
