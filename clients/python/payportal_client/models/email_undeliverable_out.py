from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.email_undeliverable_out_reason import EmailUndeliverableOutReason

T = TypeVar("T", bound="EmailUndeliverableOut")


@_attrs_define
class EmailUndeliverableOut:
    """
    Attributes:
        at (datetime.datetime):
        detail (str):
        reason (EmailUndeliverableOutReason):
    """

    at: datetime.datetime
    detail: str
    reason: EmailUndeliverableOutReason
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        detail = self.detail

        reason = self.reason.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "detail": detail,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        detail = d.pop("detail")

        reason = EmailUndeliverableOutReason(d.pop("reason"))

        email_undeliverable_out = cls(
            at=at,
            detail=detail,
            reason=reason,
        )

        email_undeliverable_out.additional_properties = d
        return email_undeliverable_out

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
