from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.new_offline_payment_method import NewOfflinePaymentMethod
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewOfflinePayment")


@_attrs_define
class NewOfflinePayment:
    """
    Attributes:
        amount (int): integer in the currency's minor unit
        method (NewOfflinePaymentMethod):
        received_on (datetime.date): the day the money came in; not in the future
        reference (str | Unset): a cheque number, a transfer's reference Default: ''.
    """

    amount: int
    method: NewOfflinePaymentMethod
    received_on: datetime.date
    reference: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        method = self.method.value

        received_on = self.received_on.isoformat()

        reference = self.reference

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "method": method,
                "received_on": received_on,
            }
        )
        if reference is not UNSET:
            field_dict["reference"] = reference

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        method = NewOfflinePaymentMethod(d.pop("method"))

        received_on = datetime.date.fromisoformat(d.pop("received_on"))

        reference = d.pop("reference", UNSET)

        new_offline_payment = cls(
            amount=amount,
            method=method,
            received_on=received_on,
            reference=reference,
        )

        return new_offline_payment
