"""Every HTTP route, and the functions other sources fire: CDK builds API Gateway and the schedules from
these; the local stack dispatches with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

# iam: API Gateway checks SigV4; none: open, the function authorises (pay link, Stripe signature); session:
# open at API Gateway, the console function admits only a signed-in Cognito session (MFA passed).
Auth = Literal["iam", "none", "session"]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # API Gateway resource path, `{name}` for path parameters
    function: str  # folder under functions/
    auth: Auth


ROUTES: Final = (
    Route("GET", "/health", "checkout", "none"),
    # Where Checkout sends the customer back: the URLs name the invoice and attempt, never a pay link
    # (listed first: a literal segment wins over a parameter, as in API Gateway).
    Route("GET", "/pay/return/{invoice_id}/{ref}", "checkout", "none"),
    Route("GET", "/pay/return/{invoice_id}", "checkout", "none"),
    # Several invoices paid together: a grouped reminder's pay-together link, and where Checkout returns to.
    Route("GET", "/pay/together/return/{ref}", "checkout", "none"),
    Route("GET", "/pay/together/{token}", "checkout", "none"),
    Route("POST", "/pay/together/{token}/checkout", "checkout", "none"),
    Route("GET", "/pay/{token}", "checkout", "none"),
    Route("POST", "/pay/{token}/checkout", "checkout", "none"),
    Route("GET", "/pay/{token}/return", "checkout", "none"),  # sessions opened before return URLs lost the token
    Route("POST", "/pay/{token}/promise", "checkout", "none"),
    Route("POST", "/pay/{token}/plan", "checkout", "none"),
    Route("POST", "/pay/{token}/installment", "checkout", "none"),
    Route("POST", "/pay/{token}/card", "checkout", "none"),
    Route("POST", "/pay/{token}/autopay", "checkout", "none"),
    Route("POST", "/pay/{token}/autopay/off", "checkout", "none"),
    Route("GET", "/pay/{token}/invoice.pdf", "checkout", "none"),
    Route("GET", "/pay/{token}/receipts/{payment_id}", "checkout", "none"),  # a PDF
    # The customer's account (functions/account): open at API Gateway; the function admits its own sessions,
    # opened by a one-time code by email (none: like the pay pages, the function authorises).
    Route("GET", "/account", "account", "none"),
    Route("POST", "/account/sign-in", "account", "none"),
    Route("POST", "/account/code", "account", "none"),
    Route("POST", "/account/sign-out", "account", "none"),
    Route("POST", "/account/invoices/{invoice_id}/pay", "account", "none"),
    Route("POST", "/account/invoices/{invoice_id}/promise", "account", "none"),
    Route("POST", "/account/invoices/{invoice_id}/plan/code", "account", "none"),  # step-up for a plan
    Route("POST", "/account/invoices/{invoice_id}/plan", "account", "none"),
    Route("POST", "/account/pay-together", "account", "none"),  # several open invoices in one Checkout
    Route("POST", "/account/autopay/code", "account", "none"),
    Route("POST", "/account/autopay", "account", "none"),
    Route("GET", "/account/payment-methods", "account", "none"),
    Route("POST", "/account/payment-methods/code", "account", "none"),
    Route("POST", "/account/payment-methods", "account", "none"),
    Route("POST", "/account/export/code", "account", "none"),  # the step-up code for the export (literal first)
    Route("POST", "/account/export", "account", "none"),  # with that code: the download link emailed
    Route("GET", "/account/export/{token}", "account", "none"),  # the emailed link: a page with the button
    Route("POST", "/account/export/{token}", "account", "none"),  # the zip, once (the token, no session)
    Route("GET", "/account/statement.pdf", "account", "none"),  # the session's: every invoice, as a PDF
    Route("GET", "/account/invoices/{invoice_id}/pdf", "account", "none"),
    Route("GET", "/account/invoices/{invoice_id}/receipts/{payment_id}", "account", "none"),  # a PDF
    Route("POST", "/webhooks/stripe", "webhooks", "none"),
    Route("POST", "/v1/customers", "operator_api", "iam"),
    Route("GET", "/v1/customers", "operator_api", "iam"),
    Route("GET", "/v1/customers/{customer_id}", "operator_api", "iam"),
    Route("PATCH", "/v1/customers/{customer_id}", "operator_api", "iam"),
    Route("POST", "/v1/customers/{customer_id}/hold", "operator_api", "iam"),
    Route("DELETE", "/v1/customers/{customer_id}/hold", "operator_api", "iam"),
    Route("DELETE", "/v1/customers/{customer_id}/autopay", "operator_api", "iam"),
    Route("POST", "/v1/customers/{customer_id}/erase", "operator_api", "iam"),
    Route("POST", "/v1/customers/{customer_id}/restriction", "operator_api", "iam"),
    Route("DELETE", "/v1/customers/{customer_id}/restriction", "operator_api", "iam"),
    Route("GET", "/v1/customers/{customer_id}/transactions", "operator_api", "iam"),
    Route("GET", "/v1/customers/{customer_id}/audit", "operator_api", "iam"),
    Route("GET", "/v1/customers/{customer_id}/export", "operator_api", "iam"),
    Route("POST", "/v1/invoices", "operator_api", "iam"),
    Route("GET", "/v1/invoices", "operator_api", "iam"),
    Route("GET", "/v1/invoices/{invoice_id}", "operator_api", "iam"),
    Route("PATCH", "/v1/invoices/{invoice_id}", "operator_api", "iam"),
    Route("GET", "/v1/invoices/{invoice_id}/audit", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/void", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/payments", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/credit-notes", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/pay-links", "operator_api", "iam"),
    Route("DELETE", "/v1/invoices/{invoice_id}/pay-links", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/checkout-sessions", "operator_api", "iam"),
    Route("POST", "/v1/invoices/{invoice_id}/hold", "operator_api", "iam"),
    Route("DELETE", "/v1/invoices/{invoice_id}/hold", "operator_api", "iam"),
    Route("GET", "/v1/payments", "operator_api", "iam"),
    Route("POST", "/v1/payments/{payment_id}/refunds", "operator_api", "iam"),
    Route("POST", "/v1/payments/{payment_id}/reversal", "operator_api", "iam"),
    Route("POST", "/v1/recurring-charges", "operator_api", "iam"),
    Route("GET", "/v1/recurring-charges/{recurring_id}", "operator_api", "iam"),
    Route("PATCH", "/v1/recurring-charges/{recurring_id}", "operator_api", "iam"),
    Route("DELETE", "/v1/recurring-charges/{recurring_id}", "operator_api", "iam"),
    Route("GET", "/v1/stripe-events", "operator_api", "iam"),
    Route("GET", "/v1/stripe-events/{event_id}", "operator_api", "iam"),
    Route("POST", "/v1/stripe-events/{event_id}/replay", "operator_api", "iam"),
    Route("GET", "/v1/reports/reminders", "operator_api", "iam"),
    Route("GET", "/v1/dunning-policy", "operator_api", "iam"),
    Route("PUT", "/v1/dunning-policy", "operator_api", "iam"),
    Route("GET", "/v1/reports/aging", "operator_api", "iam"),
    Route("GET", "/v1/reports/collections", "operator_api", "iam"),
    Route("GET", "/v1/exports/payments", "operator_api", "iam"),
    Route("POST", "/v1/imports", "operator_api", "iam"),
    Route("POST", "/v1/imports/uploads", "operator_api", "iam"),  # a form to upload a file too large for one request
    Route("GET", "/v1/imports/template.csv", "operator_api", "iam"),  # a literal segment, before the parameter
    Route("GET", "/v1/imports/{import_id}", "operator_api", "iam"),
    Route("POST", "/v1/webhook-endpoints", "operator_api", "iam"),
    Route("GET", "/v1/webhook-endpoints", "operator_api", "iam"),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}", "operator_api", "iam"),
    Route("PATCH", "/v1/webhook-endpoints/{endpoint_id}", "operator_api", "iam"),
    Route("DELETE", "/v1/webhook-endpoints/{endpoint_id}", "operator_api", "iam"),
    Route("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", "operator_api", "iam"),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries", "operator_api", "iam"),
    Route("POST", "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry", "operator_api", "iam"),
    # The operator console (functions/console): its own sign-in pages talk to Cognito from the server.
    Route("GET", "/console", "console", "session"),
    Route("GET", "/console/sign-in", "console", "session"),
    Route("POST", "/console/sign-in", "console", "session"),
    Route("POST", "/console/sign-in/new-password", "console", "session"),
    Route("POST", "/console/sign-in/enrol", "console", "session"),
    Route("POST", "/console/sign-in/code", "console", "session"),
    Route("POST", "/console/sign-out", "console", "session"),
    Route("GET", "/console/today", "console", "session"),
    Route("GET", "/console/customers", "console", "session"),
    Route("GET", "/console/customers/{customer_id}", "console", "session"),
    Route("GET", "/console/customers/{customer_id}/export", "console", "session"),  # admins: the export zip
    Route("POST", "/console/customers/{customer_id}/hold", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/hold/release", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/autopay/off", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/notes", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/correction", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/erase", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/restriction", "console", "session"),
    Route("POST", "/console/customers/{customer_id}/restriction/lift", "console", "session"),
    Route("GET", "/console/invoices", "console", "session"),  # the list; ?number= alone: to that invoice
    Route("GET", "/console/reports", "console", "session"),
    Route("GET", "/console/invoices/{invoice_id}", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/hold", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/hold/release", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/payments", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/refunds", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/promise", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/pay-links", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/pay-links/revoke", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/notes", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/void", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/credit-notes", "console", "session"),
    Route("POST", "/console/invoices/{invoice_id}/correction", "console", "session"),
    Route("GET", "/console/review", "console", "session"),  # Stripe events flagged or failed
    Route("POST", "/console/review/{event_id}/replay", "console", "session"),
    Route("GET", "/console/dunning-policy", "console", "session"),  # the policy in force, its preview
    Route("POST", "/console/dunning-policy", "console", "session"),  # the admin's edit: preview or save
    Route("GET", "/console/users", "console", "session"),  # admins only: the pool's staff
    Route("POST", "/console/users", "console", "session"),  # invite
    Route("POST", "/console/users/{username}/role", "console", "session"),
    Route("POST", "/console/users/{username}/disable", "console", "session"),
    Route("POST", "/console/users/{username}/enable", "console", "session"),
    Route("POST", "/console/users/{username}/reset-mfa", "console", "session"),
    Route("GET", "/console/import", "console", "session"),  # ?id=: an import's progress
    Route("POST", "/console/import/check", "console", "session"),  # multipart: the file, checked, nothing written
    Route("POST", "/console/import", "console", "session"),
)

# Functions behind HTTP routes, and those fired by other sources.
# What API Gateway treats as binary: every type. It decides by the request's first Accept type, and a browser
# following a link to a PDF asks for text/html first; only `*/*` lets a PDF through (AWS's advice for
# browsers). Request bodies then reach the functions base64-encoded (isBase64Encoded), which each decodes
# before reading (the Stripe signature is checked on the decoded bytes); text answers pass through unchanged.
BINARY_MEDIA_TYPES: Final = ("*/*",)

HTTP_FUNCTIONS: Final = tuple(sorted({route.function for route in ROUTES}))
STREAM_FUNCTIONS: Final = ("outbox",)
# Functions an SQS queue of their own triggers: the bulk import worker (one message at a time, infra/components/
# imports.py; locally local/queue_poller.py) and the outbound webhooks' deliveries (batches fed by a bus rule;
# locally local/batch_poller.py).
IMPORT_FUNCTIONS: Final = ("imports",)
QUEUE_FUNCTIONS: Final = (*IMPORT_FUNCTIONS, "webhook_delivery")
# Functions subscribed to the SNS topic SES publishes bounce and complaint events to.
SES_EVENT_FUNCTIONS: Final = ("email_feedback",)
# Functions fired by EventBridge Scheduler, with their schedule expression (local: /_local/schedules/{name}/run).
SCHEDULED_FUNCTIONS: Final = {
    "reminders": "rate(1 hour)",
    "charges": "rate(1 hour)",
    "balances": "rate(1 hour)",
    "reconcile": "rate(1 hour)",
    # Daily at payportal:digestHour (default 7) in payportal:digestTimezone: infra/components/scheduling.py
    # builds the expression from the context; this is what it is with the defaults.
    "digest": "cron(0 7 * * ? *)",
    # Daily, at night (UTC): customers whose records have all outlived their retention are pseudonymised.
    "retention": "cron(30 3 * * ? *)",
}
