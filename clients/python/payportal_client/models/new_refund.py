from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.new_refund_reason import NewRefundReason
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewRefund")


@_attrs_define
class NewRefund:
    """
    Attributes:
        amount (int | None | Unset): omitted: all that is left to refund
        credit (bool | Unset): refund the invoice's credit (what an overpayment left beyond amount_due) Default: False.
        reason (NewRefundReason | Unset):  Default: NewRefundReason.REQUESTED_BY_CUSTOMER.
        reopen_balance (bool | Unset): false: a credit, the invoice stays settled for what remains; true: the amount is
            owed again Default: False.
    """

    amount: int | None | Unset = UNSET
    credit: bool | Unset = False
    reason: NewRefundReason | Unset = NewRefundReason.REQUESTED_BY_CUSTOMER
    reopen_balance: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        amount: int | None | Unset
        if isinstance(self.amount, Unset):
            amount = UNSET
        else:
            amount = self.amount

        credit = self.credit

        reason: str | Unset = UNSET
        if not isinstance(self.reason, Unset):
            reason = self.reason.value

        reopen_balance = self.reopen_balance

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if amount is not UNSET:
            field_dict["amount"] = amount
        if credit is not UNSET:
            field_dict["credit"] = credit
        if reason is not UNSET:
            field_dict["reason"] = reason
        if reopen_balance is not UNSET:
            field_dict["reopen_balance"] = reopen_balance

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        amount = _parse_amount(d.pop("amount", UNSET))

        credit = d.pop("credit", UNSET)

        _reason = d.pop("reason", UNSET)
        reason: NewRefundReason | Unset
        if isinstance(_reason, Unset):
            reason = UNSET
        else:
            reason = NewRefundReason(_reason)

        reopen_balance = d.pop("reopen_balance", UNSET)

        new_refund = cls(
            amount=amount,
            credit=credit,
            reason=reason,
            reopen_balance=reopen_balance,
        )

        return new_refund
