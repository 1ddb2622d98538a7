from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FeeOut")


@_attrs_define
class FeeOut:
    """
    Attributes:
        amount (int): what Stripe kept of the payment, in minor units of `currency`
        balance_transaction (str): Stripe's balance transaction (txn_...) the fee is on
        currency (str): the Stripe balance's currency: the payment's, unless Stripe converted it
    """

    amount: int
    balance_transaction: str
    currency: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        balance_transaction = self.balance_transaction

        currency = self.currency

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "balance_transaction": balance_transaction,
                "currency": currency,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        balance_transaction = d.pop("balance_transaction")

        currency = d.pop("currency")

        fee_out = cls(
            amount=amount,
            balance_transaction=balance_transaction,
            currency=currency,
        )

        fee_out.additional_properties = d
        return fee_out

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
