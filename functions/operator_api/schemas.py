"""Request and response models of the operator API: validated at the edge, documented in OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from shared.domain.errors import UnknownCurrency
from shared.domain.money import normalise_currency
from shared.domain.text import is_email_address, strip_bidi_controls
from shared.dunning_policy_model import (
    MinorUnits,
    PlanOfferModel,
    StrictModel,
)

# The dates the API takes (due dates, periods, holds): schedules computed from them (reminders up to a year
# after, write-offs up to ten, a thousand yearly periods) stay well inside what a date can hold.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def _email(value: str) -> str:
    value = value.strip()
    if not is_email_address(value):
        raise ValueError("must be an email address such as name@example.com")
    return value


def _free_text(value: object) -> object:
    """Names, descriptions, reasons: stored without bidi controls, which could make a pay page or an email
    show text in another order than it was written (shared.domain.text)."""
    return strip_bidi_controls(value) if isinstance(value, str) else value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones ("America") is no zone
        raise ValueError("must be an IANA time zone such as Europe/Berlin") from None
    return value


def _locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError  # lazy: babel's locale data loads only when a locale is checked

    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError("must be a locale such as en-US or de-DE") from None
    return str(parsed).replace("_", "-")


def _business_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be a date from {EARLIEST_DATE} to {LATEST_DATE}")
    return value


def _business_moment(value: datetime) -> datetime:
    _business_date(value.date())
    return value


def _currency(value: str) -> str:
    try:
        return normalise_currency(value)
    except UnknownCurrency as error:
        raise ValueError(error.message) from None


EmailAddress = Annotated[str, AfterValidator(_email)]
FreeText = Annotated[str, BeforeValidator(_free_text)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
LocaleName = Annotated[str, AfterValidator(_locale)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
BusinessDate = Annotated[date, AfterValidator(_business_date)]
BusinessMoment = Annotated[AwareDatetime, AfterValidator(_business_moment)]


_Strict = StrictModel  # shared with the console's policy page (shared.dunning_policy_model)


class NewCustomer(_Strict):
    email: EmailAddress = Field(examples=["ada@example.com"])
    name: FreeText = Field(min_length=1, max_length=200, examples=["Ada Lovelace"])
    # Your own system's id for the customer: unique, so a second customer with it is refused (409).
    external_id: FreeText | None = Field(default=None, min_length=1, max_length=128, examples=["crm-1815"])
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone", examples=["Europe/London"])
    locale: LocaleName = Field(default="en-US", examples=["en-GB"])


class NewHold(_Strict):
    reason: FreeText = Field(min_length=1, max_length=200)
    until: BusinessMoment | None = Field(default=None, description="omit to hold until released")


class HoldOut(BaseModel):
    reason: str
    until: datetime | None


class CustomerChanges(_Strict):
    email: EmailAddress | None = Field(default=None, description="a new address is deliverable again")
    name: FreeText | None = Field(default=None, min_length=1, max_length=200)
    locale: LocaleName | None = Field(default=None, examples=["de-DE"])
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA time zone (for invoices created from now on)", examples=["Europe/Berlin"]
    )
    external_id: FreeText | None = Field(
        default=None, max_length=128, description='unique like on create (409 if taken); "" removes it'
    )

    @model_validator(mode="after")
    def _something(self) -> CustomerChanges:
        if all(v is None for v in (self.email, self.name, self.locale, self.timezone, self.external_id)):
            raise ValueError("give at least one of email, name, locale, timezone, external_id")
        return self


class CustomerErasure(_Strict):
    open_invoices: Literal["hold", "void"] = Field(
        description="what becomes of invoices still owed: held (no reminder ever again), or voided where "
        "nothing was paid on them (the others are held)"
    )


class EmailUndeliverableOut(BaseModel):
    reason: Literal["bounce", "complaint"]
    at: datetime
    detail: str


class CustomerOut(BaseModel):
    id: str
    email: str
    name: str
    external_id: str | None
    timezone: str
    locale: str
    created_at: datetime
    hold: HoldOut | None = Field(default=None, description="reminders for all their invoices are paused")
    autopay_enabled_at: datetime | None = Field(
        default=None, description="autopay is on: future invoices are charged on their due date"
    )
    email_undeliverable: EmailUndeliverableOut | None = Field(
        default=None,
        description="SES reported a permanent bounce or a complaint; nothing is sent until the address changes",
    )
    erased_at: datetime | None = Field(
        default=None, description="erased (GDPR Art. 17): name, email and external id are placeholders"
    )
    restricted_at: datetime | None = Field(
        default=None, description="processing restricted (GDPR Art. 18): only receipts and refunds are sent"
    )
    stripe_push_pending: bool = Field(
        default=False, description="a correction not yet at Stripe: sent on their next payment or a repeat"
    )


class NewRecurringCharge(_Strict):
    customer_id: str = Field(min_length=1, max_length=64)
    amount: MinorUnits
    currency: CurrencyCode = Field(examples=["USD"])
    interval: Literal["weekly", "monthly", "yearly"]
    start_date: BusinessDate = Field(description="the first period's date, which is its invoice's due date")
    end_date: BusinessDate | None = Field(default=None, description="no period after this date")
    count: int | None = Field(default=None, ge=1, le=1000, description="or: this many periods in all")
    description: FreeText = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _bounds(self) -> NewRecurringCharge:
        if self.end_date is not None and self.count is not None:
            raise ValueError("give end_date or count, not both")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class RecurringChanges(_Strict):
    paused: StrictBool | None = Field(default=None, description="true pauses, false resumes")
    amount: MinorUnits | None = Field(default=None, description="from the next period on")

    @model_validator(mode="after")
    def _something(self) -> RecurringChanges:
        if self.paused is None and self.amount is None:
            raise ValueError("give paused, amount or both")
        return self


class RecurringChargeOut(BaseModel):
    id: str
    customer_id: str
    amount: int
    currency: str
    interval: str
    start_date: date
    end_date: date | None
    count: int | None
    description: str
    status: Literal["active", "paused", "ended"]
    periods_created: int
    next_invoice_at: datetime | None = Field(description="when the next period's invoice is created")
    created_at: datetime


class NewInvoice(_Strict):
    customer_id: str = Field(min_length=1, max_length=64)
    number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$", examples=["INV-1001"])
    currency: CurrencyCode = Field(examples=["USD"])
    amount_due: MinorUnits
    due_date: BusinessDate = Field(examples=["2027-01-31"])
    description: FreeText = Field(default="", max_length=500)
    allow_partial: StrictBool = False
    min_partial_amount: MinorUnits | None = None
    notify: StrictBool = Field(default=False, description="email the pay link to the customer")
    installments: PlanOfferModel | None = Field(
        default=None, description="let the customer pay in installments on the pay page (first one on Checkout)"
    )

    @model_validator(mode="after")
    def _partial_rules(self) -> NewInvoice:
        if self.min_partial_amount is not None:
            if not self.allow_partial:
                raise ValueError("min_partial_amount needs allow_partial: true")
            if self.min_partial_amount > self.amount_due:
                raise ValueError("min_partial_amount cannot exceed amount_due")
        if self.installments and self.installments.min_installment_amount * 2 > self.amount_due:
            raise ValueError("amount_due is too small for two installments of min_installment_amount")
        return self


class LateFeeLineOut(BaseModel):
    step: str
    amount: int


class RefundOut(BaseModel):
    id: str = Field(description="Stripe's refund id")
    amount: int
    status: Literal["pending", "succeeded", "failed", "canceled"] = Field(
        description="pending and succeeded count as refunded; failed and canceled gave the money back to the payment"
    )
    reopens_balance: bool = Field(description="the refunded amount is owed again (dunning resumes)")
    reason: str
    updated_at: datetime


class FeeOut(BaseModel):
    amount: int = Field(description="what Stripe kept of the payment, in minor units of `currency`")
    currency: str = Field(description="the Stripe balance's currency: the payment's, unless Stripe converted it")
    balance_transaction: str = Field(description="Stripe's balance transaction (txn_...) the fee is on")


class OfflineReceiptOut(BaseModel):
    method: Literal["check", "bank_transfer", "cash", "other"]
    reference: str
    received_on: date
    reversed_at: datetime | None = Field(default=None, description="it came back (a bounced cheque): owed again")
    reversal_reason: str = ""


class ReminderOut(BaseModel):
    step: str = Field(description="the dunning step's key", examples=["7:overdue"])
    template: str = Field(description="the reminder copy the step used")
    channel: str = Field(description="how the reminder was sent", examples=["email"])
    sent_at: datetime = Field(description="when the dunning run sent the reminder")


class PaymentOut(BaseModel):
    id: str
    invoice_id: str
    amount: int
    currency: str
    status: Literal["pending", "failed", "succeeded", "partially_refunded", "refunded", "reversed"]
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None
    amount_refunded: int = Field(default=0, description="refunds pending or succeeded, as Stripe's charge counts them")
    refunds: list[RefundOut] = Field(default_factory=list, description="oldest first")
    offline: OfflineReceiptOut | None = Field(
        default=None, description="money received outside Stripe, recorded with POST /v1/invoices/{id}/payments"
    )
    reminder: ReminderOut | None = Field(
        default=None,
        description="the reminder whose pay link opened the Checkout Session that took this payment; null: none",
    )
    fee: FeeOut | None = Field(
        default=None,
        description="Stripe's fee on the payment's charge, once reconciliation has read it (within the hour after "
        "the payment); null: not known (yet), or an offline payment",
    )


class NewRefund(_Strict):
    amount: MinorUnits | None = Field(default=None, description="omitted: all that is left to refund")
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] = "requested_by_customer"
    reopen_balance: StrictBool = Field(
        default=False,
        description="false: a credit, the invoice stays settled for what remains; true: the amount is owed again",
    )
    credit: StrictBool = Field(
        default=False, description="refund the invoice's credit (what an overpayment left beyond amount_due)"
    )

    @model_validator(mode="after")
    def _credit_is_not_reopened(self) -> NewRefund:
        if self.credit and self.reopen_balance:
            raise ValueError("a refunded credit was never owed: give credit or reopen_balance, not both")
        return self


class RefundMadeOut(BaseModel):
    refund: RefundOut
    payment: PaymentOut
    invoice_id: str
    invoice_status: Literal["open", "partially_paid", "paid", "void", "uncollectible"]
    invoice_amount_remaining: int


class NewOfflinePayment(_Strict):
    amount: MinorUnits
    method: Literal["check", "bank_transfer", "cash", "other"]
    reference: FreeText = Field(default="", max_length=100, description="a cheque number, a transfer's reference")
    received_on: BusinessDate = Field(
        description="the day the money came in; not in the future", examples=["2027-02-27"]
    )


class OfflinePaymentMadeOut(BaseModel):
    payment: PaymentOut
    invoice_id: str
    invoice_status: Literal["open", "partially_paid", "paid", "void", "uncollectible"]
    invoice_amount_remaining: int
    invoice_amount_credit: int = Field(description="paid beyond amount_due: kept as the customer's credit")


class NewReversal(_Strict):
    reason: FreeText = Field(min_length=1, max_length=200, examples=["cheque returned unpaid"])


class NewCreditNote(_Strict):
    amount: MinorUnits = Field(description="taken off amount_due; at most what is still owed")
    reason: FreeText = Field(min_length=1, max_length=200, examples=["goodwill discount"])


class CreditNoteOut(BaseModel):
    id: str
    amount: int
    reason: str
    created_at: datetime


class InvoiceChanges(_Strict):
    description: FreeText | None = Field(default=None, max_length=500)
    due_date: BusinessDate | None = Field(default=None, description="reminders re-plan from it")
    amount_due: MinorUnits | None = Field(
        default=None, description="only while nothing is paid; afterwards issue a credit note"
    )

    @model_validator(mode="after")
    def _something(self) -> InvoiceChanges:
        if self.description is None and self.due_date is None and self.amount_due is None:
            raise ValueError("give description, due_date, amount_due or several")
        return self


class NewPayLink(_Strict):
    send: StrictBool = Field(default=False, description="also email the customer a link (one of its own)")


class PayLinkOut(BaseModel):
    pay_url: str = Field(description="shown once, only its hash is stored")
    expires_at: datetime
    sent: bool = Field(description="an email with a pay link is on its way to the customer")


class InstallmentOut(BaseModel):
    number: int
    due_on: date
    amount: int
    status: Literal["scheduled", "charging", "paid", "failed"]
    attempts: int = Field(description="off-session charge attempts made")
    failure: str | None = Field(default=None, description="the last failed attempt's decline code")


class PlanOut(BaseModel):
    id: str
    status: Literal["awaiting_first", "active", "completed", "defaulted", "cancelled"]
    kind: Literal["installments", "autopay"] = "installments"
    frequency: Literal["weekly", "biweekly", "monthly", "once"]
    installments: list[InstallmentOut]
    next_charge_at: datetime | None = Field(default=None, description="when the charge run next looks at it")


class InvoiceOut(BaseModel):
    id: str
    customer_id: str
    number: str
    status: Literal["open", "partially_paid", "paid", "void", "uncollectible"]
    currency: str
    amount_due: int = Field(description="what is owed in all, late fees included")
    amount_original: int = Field(description="what was invoiced, before late fees and credit notes")
    late_fees: list[LateFeeLineOut] = Field(default_factory=list)
    amount_paid: int
    amount_remaining: int
    amount_credit: int = Field(description="paid beyond amount_due and not refunded, kept as the customer's credit")
    amount_refunded: int = Field(default=0, description="refunds of its payments, pending or succeeded")
    due_date: date
    description: str
    allow_partial: bool
    min_partial_amount: int | None
    created_at: datetime
    hold: HoldOut | None = Field(default=None, description="reminders are paused while this is set")
    open_disputes: list[str] = Field(default_factory=list, description="Stripe disputes not yet closed: no reminders")
    installments: PlanOfferModel | None = Field(default=None, description="the installment plans on offer")
    active_plan: str | None = Field(default=None, description="the installment plan paying it off (no dunning)")
    plan: PlanOut | None = Field(default=None, description="that plan, on GET /v1/invoices/{id}")
    next_reminder_at: datetime | None = Field(default=None, description="when the dunning run looks at it next")
    payments: list[PaymentOut] = Field(default_factory=list)
    amount_credited: int = Field(default=0, description="what credit notes took off amount_due")
    credit_notes: list[CreditNoteOut] = Field(default_factory=list, description="oldest first")


class CreditNoteIssuedOut(BaseModel):
    credit_note: CreditNoteOut
    invoice: InvoiceOut


class CreatedInvoice(InvoiceOut):
    pay_url: str = Field(description="the customer's pay link; shown once, only its hash is stored")


class CustomersPage(BaseModel):
    customers: list[CustomerOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class InvoiceRowOut(BaseModel):
    """An invoice in a list: what GET /v1/invoices/{id} shows, without its payments and plan."""

    id: str
    customer_id: str
    number: str
    status: Literal["open", "partially_paid", "paid", "void", "uncollectible"]
    currency: str
    amount_due: int = Field(description="what is owed in all, late fees included")
    amount_paid: int
    amount_remaining: int
    amount_credit: int = Field(description="paid beyond amount_due and not refunded, kept as the customer's credit")
    amount_refunded: int = 0
    due_date: date
    days_overdue: int = Field(
        description="whole days past the due date in the customer's time zone while something is owed; else 0"
    )
    description: str
    created_at: datetime
    hold: HoldOut | None = Field(default=None, description="reminders are paused while this is set")
    promised_at: datetime | None = Field(default=None, description="when the customer promised to pay")
    open_disputes: list[str] = Field(default_factory=list)
    active_plan: str | None = None
    next_reminder_at: datetime | None = None


class InvoicesPage(BaseModel):
    invoices: list[InvoiceRowOut]
    next_cursor: str | None = Field(description="pass as ?cursor= (with the same filters) for the next page")


class PaymentRowOut(PaymentOut):
    invoice_number: str = Field(description="the number of the invoice it pays")
    customer_id: str
    method: Literal["stripe", "check", "bank_transfer", "cash", "other"] = Field(
        description="through Stripe (Checkout or an off-session charge), or recorded by the operator"
    )


class PaymentsPage(BaseModel):
    payments: list[PaymentRowOut]
    next_cursor: str | None = Field(description="pass as ?cursor= (with the same filters) for the next page")


class TransactionsPage(BaseModel):
    data: list[PaymentOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class NewCheckoutSession(_Strict):
    amount: MinorUnits | None = Field(default=None, description="defaults to the whole remaining amount")


class FieldProblem(BaseModel):
    field: str = Field(description='the field at fault, e.g. "amount_due", "installments.max_installments"')
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description='what went wrong, for programs: "validation_error", "not_found" ...')
    message: str = Field(description="what went wrong, for people")
    fields: list[FieldProblem] = Field(description="the fields at fault; empty when it is not about one")


class ErrorBody(BaseModel):
    """Every error payportal itself answers (functions/operator_api/errors.py)."""

    error: ErrorDetail


class GatewayError(BaseModel):
    """What API Gateway answers before payportal sees the request: a missing or wrong SigV4 signature,
    or a path and method it has no route for."""

    message: str


class CheckoutSessionOut(BaseModel):
    id: str
    url: str
    amount: int
    currency: str


class CausedBy(BaseModel):
    kind: Literal["stripe_event", "operator", "customer", "job", "system"] = Field(
        description="a Stripe event, an operator API request, the customer (pay page, account), a scheduled job"
    )
    id: str | None = Field(
        description="the Stripe event id; the caller's IAM identity (ARN) for a request; the job's name"
    )


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    action: str = Field(examples=["invoice.voided", "payment.succeeded", "customer.updated"])
    actor: str = Field(description='"stripe", "customer", the IAM identity of an operator request, "scheduler"')
    caused_by: CausedBy
    details: dict[str, Any] = Field(
        description="what changed: ids, amounts in minor units, and for corrections each field's from and to"
    )


class AuditPage(BaseModel):
    data: list[AuditEntryOut] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class StripeEventOut(BaseModel):
    id: str = Field(description="Stripe's event id")
    type: str = Field(examples=["checkout.session.completed"])
    object_id: str = Field(description="the Stripe object it is about")
    outcome: Literal["applied", "no_change", "flagged", "failed", "ignored"] = Field(
        description="applied; no_change (already at that state); flagged (did not match what we recorded: "
        "nothing moved, replay once fixed); failed (processing raised: Stripe retries, or replay it)"
    )
    detail: str | None = Field(description="why it was flagged or failed")
    received_at: datetime = Field(description="when it was last processed")


class StripeEventsPage(BaseModel):
    data: list[StripeEventOut] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class ReplayOut(BaseModel):
    id: str
    type: str
    outcome: Literal["applied", "no_change", "flagged", "ignored", "duplicate_event", "retry_later"] = Field(
        description="what the replay did; duplicate_event: it was applied before, and nothing changed; "
        "retry_later: it is about a payment whose success is not recorded yet (replay that event first), "
        "nothing was kept"
    )
    previous_outcome: str | None = Field(
        default=None, description="what was kept of it before (null: it never reached us)"
    )


class ReminderPaidOut(BaseModel):
    currency: str
    payments: int = Field(description="payments through the reminder's pay links made within 7 days of it")
    amount: int = Field(description="their amount, in minor units")
    invoices_paid: int = Field(description="of those payments, the ones that left their invoice paid in full")


class ReminderFiguresOut(BaseModel):
    day: date | None = Field(description="the UTC day the reminders were sent; null in the totals")
    step: str = Field(description="the dunning step's key", examples=["+7:overdue"])
    template: str = Field(description="the reminder copy the step used", examples=["overdue"])
    sent: int = Field(description="reminders sent")
    opened: int = Field(description="of their pay links, how many were opened (each link counted once)")
    paid_within_7_days: list[ReminderPaidOut] = Field(description="per currency, by code")


class ReminderReportOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    rows: list[ReminderFiguresOut] = Field(description="per send day, dunning step and template; days ascending")
    totals: list[ReminderFiguresOut] = Field(description="per dunning step and template over the whole range")


class NewImport(_Strict):
    """A file of customers and invoices (docs/integrations.md names the columns): its text in `content`, or, for a
    file too large for one request, the `upload_id` it was uploaded under (POST /v1/imports/uploads)."""

    format: Literal["csv", "jsonl"] = Field(default="csv", description="CSV with a header row, or JSON lines")
    # Characters, not bytes: the byte limit (4,000,000 in UTF-8) is checked on the file itself (413).
    content: str | None = Field(
        default=None, min_length=1, max_length=4_000_000, description="the file's text, UTF-8 (or upload_id)"
    )
    upload_id: str | None = Field(
        default=None, pattern=r"^upl_[0-9a-f]{32}$", description="a file uploaded first (or content)"
    )

    @model_validator(mode="after")
    def _one_file(self) -> NewImport:
        if (self.content is None) == (self.upload_id is None):
            raise ValueError("give the file as content, or the upload_id it was uploaded under: one of them")
        return self


class UploadFormOut(BaseModel):
    url: str = Field(description="POST a multipart/form-data form here: every one of `fields`, then `file`")
    fields: dict[str, str] = Field(description="form fields to send as they are, before the file")


class UploadOut(BaseModel):
    upload_id: str = Field(description="what POST /v1/imports takes once the file is uploaded")
    upload: UploadFormOut
    expires_at: datetime = Field(description="the form must be sent before this instant")
    max_bytes: int = Field(description="the largest file the form takes (S3 refuses a larger one)")


class RejectedRowOut(BaseModel):
    line: int = Field(description="the row's line in the file (a CSV's header is line 1)")
    reason: str


class ImportOut(BaseModel):
    id: str
    status: Literal["checking", "invalid", "queued", "running", "completed"] = Field(
        description="an uploaded file is `checking` until the worker has read every row: then `invalid` "
        "(nothing written; `problem` says why and `rejected_rows` names each row at fault) or `queued`"
    )
    format: Literal["csv", "jsonl"]
    created_at: datetime
    sha256: str = Field(description="of the file as sent (an uploaded file's: once checked)")
    problem: str | None = Field(default=None, description="why an uploaded file did not pass the check")
    total_rows: int
    rows_done: int
    progress_percent: int = Field(ge=0, le=100)
    rows_imported: int = Field(description="created by this import")
    rows_skipped: int = Field(description="stored already, identical: left as they are")
    rows_rejected: int = Field(description="stored already and different, or naming a customer that is not stored")
    rejected_rows: list[RejectedRowOut]


class ExportedAuditEntry(BaseModel):
    id: str
    at: datetime
    action: str
    actor: str
    cause: str | None = Field(description='"stripe_event:evt_..." when a Stripe event caused it')
    details: dict[str, Any]


class ExportedEmail(BaseModel):
    message_id: str
    template: str = Field(examples=["receipt", "reminder", "account_code"])
    subject: str
    sent_at: datetime = Field(description="when the email provider accepted it")


class ExportedInvoice(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    number: str
    currency: str
    checkout_attempts: list[dict[str, Any]]
    payments: list[dict[str, Any]] = Field(description="each with its refunds; amounts in minor units")
    plans: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    reminders_opened: list[dict[str, Any]]
    audit: list[ExportedAuditEntry]


class ExportedRecurringCharge(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    audit: list[ExportedAuditEntry]


class CustomerExport(BaseModel):
    """Everything payportal holds about one customer (GET /v1/customers/{id}/export). Records are as stored:
    amounts in minor units with their currency, instants in ISO 8601 UTC; each invoice carries its holds,
    promises, late fees and credit notes as fields, and its partition's records as lists."""

    format_version: int = Field(examples=[1])
    generated_at: datetime
    customer: dict[str, Any] = Field(description="the customer record: name, email, external id, locale, ...")
    emails_sent: list[ExportedEmail]
    audit: list[ExportedAuditEntry] = Field(description="the customer record's trail, with the reads of it")
    invoices: list[ExportedInvoice]
    recurring_charges: list[ExportedRecurringCharge]
