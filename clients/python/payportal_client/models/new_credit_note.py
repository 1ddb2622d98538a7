from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="NewCreditNote")


@_attrs_define
class NewCreditNote:
    """
    Attributes:
        amount (int): taken off amount_due; at most what is still owed
        reason (str):
    """

    amount: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        reason = d.pop("reason")

        new_credit_note = cls(
            amount=amount,
            reason=reason,
        )

        return new_credit_note
