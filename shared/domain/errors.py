"""Domain errors: each means one thing a caller can act on. APIs map them to status codes in one place."""

from __future__ import annotations

from shared.domain.payer_text import PayerText


class DomainError(Exception):
    """Base of every business-rule failure. `message` is for the operator's API and logs (English);
    `payer`, where a customer may meet the failure, is what their page says, in their language."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, payer: PayerText | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.payer = payer


class InvalidAmount(DomainError):
    code = "invalid_amount"


class UnknownCurrency(DomainError):
    code = "unknown_currency"


class AmountNotChargeable(InvalidAmount):
    """A valid amount Stripe cannot charge in its currency (BHD 1.234: Stripe takes thousandths ending in 0)."""

    code = "amount_not_chargeable"


class CurrencyNotChargeable(UnknownCurrency):
    """An ISO 4217 code Stripe cannot charge in: a metal (XAU), a test code (XTS), a withdrawn currency (DEM)..."""

    code = "currency_not_chargeable"


class NotFound(DomainError):
    code = "not_found"


class InvoiceNotPayable(DomainError):
    """The invoice is paid, void, or the amount asked for is not allowed."""

    code = "invoice_not_payable"


class PaymentInProgress(DomainError):
    """The customer completed a Checkout Session that Stripe has not confirmed to us yet: a new one could
    pay the invoice twice, so none is opened until it is."""

    code = "payment_in_progress"


class InvalidStateTransition(DomainError):
    code = "invalid_state_transition"


class DuplicateInvoiceNumber(DomainError):
    code = "duplicate_invoice_number"


class PayLinkInvalid(DomainError):
    """Unknown, expired or revoked pay link: all look the same to the visitor."""

    code = "pay_link_invalid"


class InvalidHold(DomainError):
    code = "invalid_hold"


class ConcurrentUpdate(DomainError):
    """Someone else changed the item first; the caller may retry with fresh state."""

    code = "concurrent_update"


class RefundExceedsRefundable(InvalidAmount):
    """More than what is left of the payment to refund (its amount less every refund not failed)."""

    code = "refund_exceeds_refundable"


class RefundRefused(InvalidStateTransition):
    """Stripe would not refund (the charge is disputed, already refunded, or too old for its method)."""

    code = "refund_refused"


class CreditExceedsRemaining(InvalidAmount):
    """A credit note for more than the invoice still owes."""

    code = "credit_exceeds_remaining"


class InvalidDate(DomainError):
    """A date the request may not name: a payment received in the future, for one."""

    code = "invalid_date"


class PaymentNotOffline(InvalidStateTransition):
    """Only money recorded outside Stripe is reversed; a Stripe payment is refunded instead."""

    code = "payment_not_offline"


class OfflinePaymentNotRefundable(InvalidStateTransition):
    """Money recorded outside Stripe cannot be refunded through Stripe: reverse it instead."""

    code = "payment_is_offline"


class PaymentAlreadyReversed(InvalidStateTransition):
    code = "payment_already_reversed"


class InvoiceHasPayments(InvalidStateTransition):
    """amount_due is corrected only while nothing has been paid on the invoice (a credit note lowers it after)."""

    code = "invoice_has_payments"


class StripeEventUnreadable(DomainError):
    """Stripe handed back an event payportal cannot read (as the webhook would ignore it): nothing applied."""

    code = "stripe_event_unreadable"


class PaymentMethodStillNeeded(InvalidStateTransition):
    """Removing the customer's only payment method while autopay or an installment plan would charge it."""


class CustomerErased(InvalidStateTransition):
    """The customer was erased (GDPR Art. 17): their record cannot be corrected or restricted any more."""

    code = "customer_erased"
