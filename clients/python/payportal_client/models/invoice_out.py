from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.invoice_out_status import InvoiceOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.credit_note_out import CreditNoteOut
    from ..models.hold_out import HoldOut
    from ..models.late_fee_line_out import LateFeeLineOut
    from ..models.payment_out import PaymentOut
    from ..models.plan_offer_model import PlanOfferModel
    from ..models.plan_out import PlanOut


T = TypeVar("T", bound="InvoiceOut")


@_attrs_define
class InvoiceOut:
    """
    Attributes:
        allow_partial (bool):
        amount_credit (int): paid beyond amount_due and not refunded, kept as the customer's credit
        amount_due (int): what is owed in all, late fees included
        amount_original (int): what was invoiced, before late fees and credit notes
        amount_paid (int):
        amount_remaining (int):
        created_at (datetime.datetime):
        currency (str):
        customer_id (str):
        description (str):
        due_date (datetime.date):
        id (str):
        min_partial_amount (int | None):
        number (str):
        status (InvoiceOutStatus):
        active_plan (None | str | Unset): the installment plan paying it off (no dunning)
        amount_credited (int | Unset): what credit notes took off amount_due Default: 0.
        amount_refunded (int | Unset): refunds of its payments, pending or succeeded Default: 0.
        credit_notes (list[CreditNoteOut] | Unset): oldest first
        hold (HoldOut | None | Unset): reminders are paused while this is set
        installments (None | PlanOfferModel | Unset): the installment plans on offer
        late_fees (list[LateFeeLineOut] | Unset):
        next_reminder_at (datetime.datetime | None | Unset): when the dunning run looks at it next
        open_disputes (list[str] | Unset): Stripe disputes not yet closed: no reminders
        payments (list[PaymentOut] | Unset):
        plan (None | PlanOut | Unset): that plan, on GET /v1/invoices/{id}
    """

    allow_partial: bool
    amount_credit: int
    amount_due: int
    amount_original: int
    amount_paid: int
    amount_remaining: int
    created_at: datetime.datetime
    currency: str
    customer_id: str
    description: str
    due_date: datetime.date
    id: str
    min_partial_amount: int | None
    number: str
    status: InvoiceOutStatus
    active_plan: None | str | Unset = UNSET
    amount_credited: int | Unset = 0
    amount_refunded: int | Unset = 0
    credit_notes: list[CreditNoteOut] | Unset = UNSET
    hold: HoldOut | None | Unset = UNSET
    installments: None | PlanOfferModel | Unset = UNSET
    late_fees: list[LateFeeLineOut] | Unset = UNSET
    next_reminder_at: datetime.datetime | None | Unset = UNSET
    open_disputes: list[str] | Unset = UNSET
    payments: list[PaymentOut] | Unset = UNSET
    plan: None | PlanOut | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.hold_out import HoldOut  # noqa: PLC0415
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415
        from ..models.plan_out import PlanOut  # noqa: PLC0415

        allow_partial = self.allow_partial

        amount_credit = self.amount_credit

        amount_due = self.amount_due

        amount_original = self.amount_original

        amount_paid = self.amount_paid

        amount_remaining = self.amount_remaining

        created_at = self.created_at.isoformat()

        currency = self.currency

        customer_id = self.customer_id

        description = self.description

        due_date = self.due_date.isoformat()

        id = self.id

        min_partial_amount: int | None
        min_partial_amount = self.min_partial_amount

        number = self.number

        status = self.status.value

        active_plan: None | str | Unset
        if isinstance(self.active_plan, Unset):
            active_plan = UNSET
        else:
            active_plan = self.active_plan

        amount_credited = self.amount_credited

        amount_refunded = self.amount_refunded

        credit_notes: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.credit_notes, Unset):
            credit_notes = []
            for credit_notes_item_data in self.credit_notes:
                credit_notes_item = credit_notes_item_data.to_dict()
                credit_notes.append(credit_notes_item)

        hold: dict[str, Any] | None | Unset
        if isinstance(self.hold, Unset):
            hold = UNSET
        elif isinstance(self.hold, HoldOut):
            hold = self.hold.to_dict()
        else:
            hold = self.hold

        installments: dict[str, Any] | None | Unset
        if isinstance(self.installments, Unset):
            installments = UNSET
        elif isinstance(self.installments, PlanOfferModel):
            installments = self.installments.to_dict()
        else:
            installments = self.installments

        late_fees: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.late_fees, Unset):
            late_fees = []
            for late_fees_item_data in self.late_fees:
                late_fees_item = late_fees_item_data.to_dict()
                late_fees.append(late_fees_item)

        next_reminder_at: None | str | Unset
        if isinstance(self.next_reminder_at, Unset):
            next_reminder_at = UNSET
        elif isinstance(self.next_reminder_at, datetime.datetime):
            next_reminder_at = self.next_reminder_at.isoformat()
        else:
            next_reminder_at = self.next_reminder_at

        open_disputes: list[str] | Unset = UNSET
        if not isinstance(self.open_disputes, Unset):
            open_disputes = self.open_disputes

        payments: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.payments, Unset):
            payments = []
            for payments_item_data in self.payments:
                payments_item = payments_item_data.to_dict()
                payments.append(payments_item)

        plan: dict[str, Any] | None | Unset
        if isinstance(self.plan, Unset):
            plan = UNSET
        elif isinstance(self.plan, PlanOut):
            plan = self.plan.to_dict()
        else:
            plan = self.plan

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allow_partial": allow_partial,
                "amount_credit": amount_credit,
                "amount_due": amount_due,
                "amount_original": amount_original,
                "amount_paid": amount_paid,
                "amount_remaining": amount_remaining,
                "created_at": created_at,
                "currency": currency,
                "customer_id": customer_id,
                "description": description,
                "due_date": due_date,
                "id": id,
                "min_partial_amount": min_partial_amount,
                "number": number,
                "status": status,
            }
        )
        if active_plan is not UNSET:
            field_dict["active_plan"] = active_plan
        if amount_credited is not UNSET:
            field_dict["amount_credited"] = amount_credited
        if amount_refunded is not UNSET:
            field_dict["amount_refunded"] = amount_refunded
        if credit_notes is not UNSET:
            field_dict["credit_notes"] = credit_notes
        if hold is not UNSET:
            field_dict["hold"] = hold
        if installments is not UNSET:
            field_dict["installments"] = installments
        if late_fees is not UNSET:
            field_dict["late_fees"] = late_fees
        if next_reminder_at is not UNSET:
            field_dict["next_reminder_at"] = next_reminder_at
        if open_disputes is not UNSET:
            field_dict["open_disputes"] = open_disputes
        if payments is not UNSET:
            field_dict["payments"] = payments
        if plan is not UNSET:
            field_dict["plan"] = plan

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credit_note_out import CreditNoteOut  # noqa: PLC0415
        from ..models.hold_out import HoldOut  # noqa: PLC0415
        from ..models.late_fee_line_out import LateFeeLineOut  # noqa: PLC0415
        from ..models.payment_out import PaymentOut  # noqa: PLC0415
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415
        from ..models.plan_out import PlanOut  # noqa: PLC0415

        d = dict(src_dict)
        allow_partial = d.pop("allow_partial")

        amount_credit = d.pop("amount_credit")

        amount_due = d.pop("amount_due")

        amount_original = d.pop("amount_original")

        amount_paid = d.pop("amount_paid")

        amount_remaining = d.pop("amount_remaining")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        customer_id = d.pop("customer_id")

        description = d.pop("description")

        due_date = datetime.date.fromisoformat(d.pop("due_date"))

        id = d.pop("id")

        def _parse_min_partial_amount(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        min_partial_amount = _parse_min_partial_amount(d.pop("min_partial_amount"))

        number = d.pop("number")

        status = InvoiceOutStatus(d.pop("status"))

        def _parse_active_plan(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        active_plan = _parse_active_plan(d.pop("active_plan", UNSET))

        amount_credited = d.pop("amount_credited", UNSET)

        amount_refunded = d.pop("amount_refunded", UNSET)

        _credit_notes = d.pop("credit_notes", UNSET)
        credit_notes: list[CreditNoteOut] | Unset = UNSET
        if _credit_notes is not UNSET:
            credit_notes = []
            for credit_notes_item_data in _credit_notes:
                credit_notes_item = CreditNoteOut.from_dict(credit_notes_item_data)

                credit_notes.append(credit_notes_item)

        def _parse_hold(data: object) -> HoldOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hold_type_0 = HoldOut.from_dict(data)

                return hold_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HoldOut | None | Unset, data)

        hold = _parse_hold(d.pop("hold", UNSET))

        def _parse_installments(data: object) -> None | PlanOfferModel | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                installments_type_0 = PlanOfferModel.from_dict(data)

                return installments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlanOfferModel | Unset, data)

        installments = _parse_installments(d.pop("installments", UNSET))

        _late_fees = d.pop("late_fees", UNSET)
        late_fees: list[LateFeeLineOut] | Unset = UNSET
        if _late_fees is not UNSET:
            late_fees = []
            for late_fees_item_data in _late_fees:
                late_fees_item = LateFeeLineOut.from_dict(late_fees_item_data)

                late_fees.append(late_fees_item)

        def _parse_next_reminder_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_reminder_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_reminder_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_reminder_at = _parse_next_reminder_at(d.pop("next_reminder_at", UNSET))

        open_disputes = cast(list[str], d.pop("open_disputes", UNSET))

        _payments = d.pop("payments", UNSET)
        payments: list[PaymentOut] | Unset = UNSET
        if _payments is not UNSET:
            payments = []
            for payments_item_data in _payments:
                payments_item = PaymentOut.from_dict(payments_item_data)

                payments.append(payments_item)

        def _parse_plan(data: object) -> None | PlanOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                plan_type_0 = PlanOut.from_dict(data)

                return plan_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlanOut | Unset, data)

        plan = _parse_plan(d.pop("plan", UNSET))

        invoice_out = cls(
            allow_partial=allow_partial,
            amount_credit=amount_credit,
            amount_due=amount_due,
            amount_original=amount_original,
            amount_paid=amount_paid,
            amount_remaining=amount_remaining,
            created_at=created_at,
            currency=currency,
            customer_id=customer_id,
            description=description,
            due_date=due_date,
            id=id,
            min_partial_amount=min_partial_amount,
            number=number,
            status=status,
            active_plan=active_plan,
            amount_credited=amount_credited,
            amount_refunded=amount_refunded,
            credit_notes=credit_notes,
            hold=hold,
            installments=installments,
            late_fees=late_fees,
            next_reminder_at=next_reminder_at,
            open_disputes=open_disputes,
            payments=payments,
            plan=plan,
        )

        invoice_out.additional_properties = d
        return invoice_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
