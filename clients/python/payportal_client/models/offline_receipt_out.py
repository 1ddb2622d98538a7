from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.offline_receipt_out_method import OfflineReceiptOutMethod
from ..types import UNSET, Unset

T = TypeVar("T", bound="OfflineReceiptOut")


@_attrs_define
class OfflineReceiptOut:
    """
    Attributes:
        method (OfflineReceiptOutMethod):
        received_on (datetime.date):
        reference (str):
        reversal_reason (str | Unset):  Default: ''.
        reversed_at (datetime.datetime | None | Unset): it came back (a bounced cheque): owed again
    """

    method: OfflineReceiptOutMethod
    received_on: datetime.date
    reference: str
    reversal_reason: str | Unset = ""
    reversed_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        method = self.method.value

        received_on = self.received_on.isoformat()

        reference = self.reference

        reversal_reason = self.reversal_reason

        reversed_at: None | str | Unset
        if isinstance(self.reversed_at, Unset):
            reversed_at = UNSET
        elif isinstance(self.reversed_at, datetime.datetime):
            reversed_at = self.reversed_at.isoformat()
        else:
            reversed_at = self.reversed_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "method": method,
                "received_on": received_on,
                "reference": reference,
            }
        )
        if reversal_reason is not UNSET:
            field_dict["reversal_reason"] = reversal_reason
        if reversed_at is not UNSET:
            field_dict["reversed_at"] = reversed_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        method = OfflineReceiptOutMethod(d.pop("method"))

        received_on = datetime.date.fromisoformat(d.pop("received_on"))

        reference = d.pop("reference")

        reversal_reason = d.pop("reversal_reason", UNSET)

        def _parse_reversed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reversed_at_type_0 = datetime.datetime.fromisoformat(data)

                return reversed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        reversed_at = _parse_reversed_at(d.pop("reversed_at", UNSET))

        offline_receipt_out = cls(
            method=method,
            received_on=received_on,
            reference=reference,
            reversal_reason=reversal_reason,
            reversed_at=reversed_at,
        )

        offline_receipt_out.additional_properties = d
        return offline_receipt_out

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
