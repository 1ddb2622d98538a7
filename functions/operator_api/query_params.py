"""Query parameters a route does not take are a 400 naming them, before anything else is read: a misspelt
filter (`?form=` for `?from=`) must never be answered as if it had not been sent."""

from __future__ import annotations

from typing import Any, Final

from functions.operator_api.errors import unknown_parameters_error

PAGE_PARAMETERS: Final = frozenset({"limit", "cursor", "format"})
INVOICE_PARAMETERS: Final = PAGE_PARAMETERS | {
    "status", "overdue", "days_overdue_min", "customer_id", "currency", "due_after", "due_before", "number",
    "on_hold", "promised", "disputed",
}  # fmt: skip
PAYMENT_PARAMETERS: Final = PAGE_PARAMETERS | {"since", "until", "status", "method", "customer_id", "currency"}
CUSTOMER_PARAMETERS: Final = PAGE_PARAMETERS | {"email", "external_id", "q"}

# (method, API Gateway resource) -> the query parameters the route takes. Routes not listed are not checked.
# Checked before routing, so a misspelt required parameter is a 400 naming it, not a 422 saying one is missing.
KNOWN_PARAMETERS: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("GET", "/v1/invoices"): INVOICE_PARAMETERS,
    ("GET", "/v1/payments"): PAYMENT_PARAMETERS,
    ("GET", "/v1/customers"): CUSTOMER_PARAMETERS,
    ("GET", "/v1/reports/aging"): frozenset({"as_of", "currency", "group_by", "format"}),
    ("GET", "/v1/reports/collections"): frozenset({"from", "to", "currency", "format"}),
    ("GET", "/v1/reports/reminders"): frozenset({"from", "to", "format"}),
    ("GET", "/v1/exports/payments"): frozenset({"from", "to", "format", "currency", "timezone"}),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): frozenset({"status", "limit", "cursor"}),
}


def unknown_parameters(event: dict[str, Any]) -> dict[str, Any] | None:
    """The 400 for a request naming query parameters its route does not take; None when it names none."""
    known = KNOWN_PARAMETERS.get((str(event.get("httpMethod", "")), str(event.get("resource", ""))))
    if known is None:
        return None
    names = set(event.get("multiValueQueryStringParameters") or {}) | set(event.get("queryStringParameters") or {})
    unknown = sorted(names - known)
    if not unknown:
        return None
    return unknown_parameters_error(unknown, sorted(known))
