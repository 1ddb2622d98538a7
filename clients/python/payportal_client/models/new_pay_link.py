from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewPayLink")


@_attrs_define
class NewPayLink:
    """
    Attributes:
        send (bool | Unset): also email the customer a link (one of its own) Default: False.
    """

    send: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        send = self.send

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if send is not UNSET:
            field_dict["send"] = send

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        send = d.pop("send", UNSET)

        new_pay_link = cls(
            send=send,
        )

        return new_pay_link
