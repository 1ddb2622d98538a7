from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReminderPaidOut")


@_attrs_define
class ReminderPaidOut:
    """
    Attributes:
        amount (int): their amount, in minor units
        currency (str):
        invoices_paid (int): of those payments, the ones that left their invoice paid in full
        payments (int): payments through the reminder's pay links made within 7 days of it
    """

    amount: int
    currency: str
    invoices_paid: int
    payments: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency

        invoices_paid = self.invoices_paid

        payments = self.payments

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "invoices_paid": invoices_paid,
                "payments": payments,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = d.pop("currency")

        invoices_paid = d.pop("invoices_paid")

        payments = d.pop("payments")

        reminder_paid_out = cls(
            amount=amount,
            currency=currency,
            invoices_paid=invoices_paid,
            payments=payments,
        )

        reminder_paid_out.additional_properties = d
        return reminder_paid_out

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
