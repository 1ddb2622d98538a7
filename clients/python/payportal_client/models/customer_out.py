from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.email_undeliverable_out import EmailUndeliverableOut
    from ..models.hold_out import HoldOut


T = TypeVar("T", bound="CustomerOut")


@_attrs_define
class CustomerOut:
    """
    Attributes:
        created_at (datetime.datetime):
        email (str):
        external_id (None | str):
        id (str):
        locale (str):
        name (str):
        timezone (str):
        autopay_enabled_at (datetime.datetime | None | Unset): autopay is on: future invoices are charged on their due
            date
        email_undeliverable (EmailUndeliverableOut | None | Unset): SES reported a permanent bounce or a complaint;
            nothing is sent until the address changes
        erased_at (datetime.datetime | None | Unset): erased (GDPR Art. 17): name, email and external id are
            placeholders
        hold (HoldOut | None | Unset): reminders for all their invoices are paused
        restricted_at (datetime.datetime | None | Unset): processing restricted (GDPR Art. 18): only receipts and
            refunds are sent
        stripe_push_pending (bool | Unset): a correction not yet at Stripe: sent on their next payment or a repeat
            Default: False.
    """

    created_at: datetime.datetime
    email: str
    external_id: None | str
    id: str
    locale: str
    name: str
    timezone: str
    autopay_enabled_at: datetime.datetime | None | Unset = UNSET
    email_undeliverable: EmailUndeliverableOut | None | Unset = UNSET
    erased_at: datetime.datetime | None | Unset = UNSET
    hold: HoldOut | None | Unset = UNSET
    restricted_at: datetime.datetime | None | Unset = UNSET
    stripe_push_pending: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.email_undeliverable_out import EmailUndeliverableOut  # noqa: PLC0415
        from ..models.hold_out import HoldOut  # noqa: PLC0415

        created_at = self.created_at.isoformat()

        email = self.email

        external_id: None | str
        external_id = self.external_id

        id = self.id

        locale = self.locale

        name = self.name

        timezone = self.timezone

        autopay_enabled_at: None | str | Unset
        if isinstance(self.autopay_enabled_at, Unset):
            autopay_enabled_at = UNSET
        elif isinstance(self.autopay_enabled_at, datetime.datetime):
            autopay_enabled_at = self.autopay_enabled_at.isoformat()
        else:
            autopay_enabled_at = self.autopay_enabled_at

        email_undeliverable: dict[str, Any] | None | Unset
        if isinstance(self.email_undeliverable, Unset):
            email_undeliverable = UNSET
        elif isinstance(self.email_undeliverable, EmailUndeliverableOut):
            email_undeliverable = self.email_undeliverable.to_dict()
        else:
            email_undeliverable = self.email_undeliverable

        erased_at: None | str | Unset
        if isinstance(self.erased_at, Unset):
            erased_at = UNSET
        elif isinstance(self.erased_at, datetime.datetime):
            erased_at = self.erased_at.isoformat()
        else:
            erased_at = self.erased_at

        hold: dict[str, Any] | None | Unset
        if isinstance(self.hold, Unset):
            hold = UNSET
        elif isinstance(self.hold, HoldOut):
            hold = self.hold.to_dict()
        else:
            hold = self.hold

        restricted_at: None | str | Unset
        if isinstance(self.restricted_at, Unset):
            restricted_at = UNSET
        elif isinstance(self.restricted_at, datetime.datetime):
            restricted_at = self.restricted_at.isoformat()
        else:
            restricted_at = self.restricted_at

        stripe_push_pending = self.stripe_push_pending

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "external_id": external_id,
                "id": id,
                "locale": locale,
                "name": name,
                "timezone": timezone,
            }
        )
        if autopay_enabled_at is not UNSET:
            field_dict["autopay_enabled_at"] = autopay_enabled_at
        if email_undeliverable is not UNSET:
            field_dict["email_undeliverable"] = email_undeliverable
        if erased_at is not UNSET:
            field_dict["erased_at"] = erased_at
        if hold is not UNSET:
            field_dict["hold"] = hold
        if restricted_at is not UNSET:
            field_dict["restricted_at"] = restricted_at
        if stripe_push_pending is not UNSET:
            field_dict["stripe_push_pending"] = stripe_push_pending

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.email_undeliverable_out import EmailUndeliverableOut  # noqa: PLC0415
        from ..models.hold_out import HoldOut  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        email = d.pop("email")

        def _parse_external_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_id = _parse_external_id(d.pop("external_id"))

        id = d.pop("id")

        locale = d.pop("locale")

        name = d.pop("name")

        timezone = d.pop("timezone")

        def _parse_autopay_enabled_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                autopay_enabled_at_type_0 = datetime.datetime.fromisoformat(data)

                return autopay_enabled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        autopay_enabled_at = _parse_autopay_enabled_at(d.pop("autopay_enabled_at", UNSET))

        def _parse_email_undeliverable(data: object) -> EmailUndeliverableOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                email_undeliverable_type_0 = EmailUndeliverableOut.from_dict(data)

                return email_undeliverable_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EmailUndeliverableOut | None | Unset, data)

        email_undeliverable = _parse_email_undeliverable(d.pop("email_undeliverable", UNSET))

        def _parse_erased_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                erased_at_type_0 = datetime.datetime.fromisoformat(data)

                return erased_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        erased_at = _parse_erased_at(d.pop("erased_at", UNSET))

        def _parse_hold(data: object) -> HoldOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hold_type_0 = HoldOut.from_dict(data)

                return hold_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HoldOut | None | Unset, data)

        hold = _parse_hold(d.pop("hold", UNSET))

        def _parse_restricted_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                restricted_at_type_0 = datetime.datetime.fromisoformat(data)

                return restricted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        restricted_at = _parse_restricted_at(d.pop("restricted_at", UNSET))

        stripe_push_pending = d.pop("stripe_push_pending", UNSET)

        customer_out = cls(
            created_at=created_at,
            email=email,
            external_id=external_id,
            id=id,
            locale=locale,
            name=name,
            timezone=timezone,
            autopay_enabled_at=autopay_enabled_at,
            email_undeliverable=email_undeliverable,
            erased_at=erased_at,
            hold=hold,
            restricted_at=restricted_at,
            stripe_push_pending=stripe_push_pending,
        )

        customer_out.additional_properties = d
        return customer_out

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
