from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.installment_out_status import InstallmentOutStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="InstallmentOut")


@_attrs_define
class InstallmentOut:
    """
    Attributes:
        amount (int):
        attempts (int): off-session charge attempts made
        due_on (datetime.date):
        number (int):
        status (InstallmentOutStatus):
        failure (None | str | Unset): the last failed attempt's decline code
    """

    amount: int
    attempts: int
    due_on: datetime.date
    number: int
    status: InstallmentOutStatus
    failure: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        attempts = self.attempts

        due_on = self.due_on.isoformat()

        number = self.number

        status = self.status.value

        failure: None | str | Unset
        if isinstance(self.failure, Unset):
            failure = UNSET
        else:
            failure = self.failure

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "attempts": attempts,
                "due_on": due_on,
                "number": number,
                "status": status,
            }
        )
        if failure is not UNSET:
            field_dict["failure"] = failure

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        attempts = d.pop("attempts")

        due_on = datetime.date.fromisoformat(d.pop("due_on"))

        number = d.pop("number")

        status = InstallmentOutStatus(d.pop("status"))

        def _parse_failure(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure = _parse_failure(d.pop("failure", UNSET))

        installment_out = cls(
            amount=amount,
            attempts=attempts,
            due_on=due_on,
            number=number,
            status=status,
            failure=failure,
        )

        installment_out.additional_properties = d
        return installment_out

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
