from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.invoice_row_out_status import InvoiceRowOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.hold_out import HoldOut


T = TypeVar("T", bound="InvoiceRowOut")


@_attrs_define
class InvoiceRowOut:
    """An invoice in a list: what GET /v1/invoices/{id} shows, without its payments and plan.

    Attributes:
        amount_credit (int): paid beyond amount_due and not refunded, kept as the customer's credit
        amount_due (int): what is owed in all, late fees included
        amount_paid (int):
        amount_remaining (int):
        created_at (datetime.datetime):
        currency (str):
        customer_id (str):
        days_overdue (int): whole days past the due date in the customer's time zone while something is owed; else 0
        description (str):
        due_date (datetime.date):
        id (str):
        number (str):
        status (InvoiceRowOutStatus):
        active_plan (None | str | Unset):
        amount_refunded (int | Unset):  Default: 0.
        hold (HoldOut | None | Unset): reminders are paused while this is set
        next_reminder_at (datetime.datetime | None | Unset):
        open_disputes (list[str] | Unset):
        promised_at (datetime.datetime | None | Unset): when the customer promised to pay
    """

    amount_credit: int
    amount_due: int
    amount_paid: int
    amount_remaining: int
    created_at: datetime.datetime
    currency: str
    customer_id: str
    days_overdue: int
    description: str
    due_date: datetime.date
    id: str
    number: str
    status: InvoiceRowOutStatus
    active_plan: None | str | Unset = UNSET
    amount_refunded: int | Unset = 0
    hold: HoldOut | None | Unset = UNSET
    next_reminder_at: datetime.datetime | None | Unset = UNSET
    open_disputes: list[str] | Unset = UNSET
    promised_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.hold_out import HoldOut  # noqa: PLC0415

        amount_credit = self.amount_credit

        amount_due = self.amount_due

        amount_paid = self.amount_paid

        amount_remaining = self.amount_remaining

        created_at = self.created_at.isoformat()

        currency = self.currency

        customer_id = self.customer_id

        days_overdue = self.days_overdue

        description = self.description

        due_date = self.due_date.isoformat()

        id = self.id

        number = self.number

        status = self.status.value

        active_plan: None | str | Unset
        if isinstance(self.active_plan, Unset):
            active_plan = UNSET
        else:
            active_plan = self.active_plan

        amount_refunded = self.amount_refunded

        hold: dict[str, Any] | None | Unset
        if isinstance(self.hold, Unset):
            hold = UNSET
        elif isinstance(self.hold, HoldOut):
            hold = self.hold.to_dict()
        else:
            hold = self.hold

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

        promised_at: None | str | Unset
        if isinstance(self.promised_at, Unset):
            promised_at = UNSET
        elif isinstance(self.promised_at, datetime.datetime):
            promised_at = self.promised_at.isoformat()
        else:
            promised_at = self.promised_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount_credit": amount_credit,
                "amount_due": amount_due,
                "amount_paid": amount_paid,
                "amount_remaining": amount_remaining,
                "created_at": created_at,
                "currency": currency,
                "customer_id": customer_id,
                "days_overdue": days_overdue,
                "description": description,
                "due_date": due_date,
                "id": id,
                "number": number,
                "status": status,
            }
        )
        if active_plan is not UNSET:
            field_dict["active_plan"] = active_plan
        if amount_refunded is not UNSET:
            field_dict["amount_refunded"] = amount_refunded
        if hold is not UNSET:
            field_dict["hold"] = hold
        if next_reminder_at is not UNSET:
            field_dict["next_reminder_at"] = next_reminder_at
        if open_disputes is not UNSET:
            field_dict["open_disputes"] = open_disputes
        if promised_at is not UNSET:
            field_dict["promised_at"] = promised_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.hold_out import HoldOut  # noqa: PLC0415

        d = dict(src_dict)
        amount_credit = d.pop("amount_credit")

        amount_due = d.pop("amount_due")

        amount_paid = d.pop("amount_paid")

        amount_remaining = d.pop("amount_remaining")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        customer_id = d.pop("customer_id")

        days_overdue = d.pop("days_overdue")

        description = d.pop("description")

        due_date = datetime.date.fromisoformat(d.pop("due_date"))

        id = d.pop("id")

        number = d.pop("number")

        status = InvoiceRowOutStatus(d.pop("status"))

        def _parse_active_plan(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        active_plan = _parse_active_plan(d.pop("active_plan", UNSET))

        amount_refunded = d.pop("amount_refunded", UNSET)

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

        def _parse_promised_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                promised_at_type_0 = datetime.datetime.fromisoformat(data)

                return promised_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        promised_at = _parse_promised_at(d.pop("promised_at", UNSET))

        invoice_row_out = cls(
            amount_credit=amount_credit,
            amount_due=amount_due,
            amount_paid=amount_paid,
            amount_remaining=amount_remaining,
            created_at=created_at,
            currency=currency,
            customer_id=customer_id,
            days_overdue=days_overdue,
            description=description,
            due_date=due_date,
            id=id,
            number=number,
            status=status,
            active_plan=active_plan,
            amount_refunded=amount_refunded,
            hold=hold,
            next_reminder_at=next_reminder_at,
            open_disputes=open_disputes,
            promised_at=promised_at,
        )

        invoice_row_out.additional_properties = d
        return invoice_row_out

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
