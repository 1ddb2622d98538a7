from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_out_status import RefundOutStatus

T = TypeVar("T", bound="RefundOut")


@_attrs_define
class RefundOut:
    """
    Attributes:
        amount (int):
        id (str): Stripe's refund id
        reason (str):
        reopens_balance (bool): the refunded amount is owed again (dunning resumes)
        status (RefundOutStatus): pending and succeeded count as refunded; failed and canceled gave the money back to
            the payment
        updated_at (datetime.datetime):
    """

    amount: int
    id: str
    reason: str
    reopens_balance: bool
    status: RefundOutStatus
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        id = self.id

        reason = self.reason

        reopens_balance = self.reopens_balance

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "id": id,
                "reason": reason,
                "reopens_balance": reopens_balance,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        id = d.pop("id")

        reason = d.pop("reason")

        reopens_balance = d.pop("reopens_balance")

        status = RefundOutStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        refund_out = cls(
            amount=amount,
            id=id,
            reason=reason,
            reopens_balance=reopens_balance,
            status=status,
            updated_at=updated_at,
        )

        refund_out.additional_properties = d
        return refund_out

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
