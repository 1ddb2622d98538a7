from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewCustomer")


@_attrs_define
class NewCustomer:
    """
    Attributes:
        email (str):
        name (str):
        external_id (None | str | Unset):
        locale (str | Unset):  Default: 'en-US'.
        timezone (str | Unset): IANA time zone Default: 'UTC'.
    """

    email: str
    name: str
    external_id: None | str | Unset = UNSET
    locale: str | Unset = "en-US"
    timezone: str | Unset = "UTC"

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        name = self.name

        external_id: None | str | Unset
        if isinstance(self.external_id, Unset):
            external_id = UNSET
        else:
            external_id = self.external_id

        locale = self.locale

        timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "name": name,
            }
        )
        if external_id is not UNSET:
            field_dict["external_id"] = external_id
        if locale is not UNSET:
            field_dict["locale"] = locale
        if timezone is not UNSET:
            field_dict["timezone"] = timezone

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        name = d.pop("name")

        def _parse_external_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_id = _parse_external_id(d.pop("external_id", UNSET))

        locale = d.pop("locale", UNSET)

        timezone = d.pop("timezone", UNSET)

        new_customer = cls(
            email=email,
            name=name,
            external_id=external_id,
            locale=locale,
            timezone=timezone,
        )

        return new_customer
