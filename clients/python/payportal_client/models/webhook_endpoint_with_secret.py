from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_endpoint_with_secret_disabled_reason_type_0 import (
    WebhookEndpointWithSecretDisabledReasonType0,
)

T = TypeVar("T", bound="WebhookEndpointWithSecret")


@_attrs_define
class WebhookEndpointWithSecret:
    """
    Attributes:
        consecutive_failures (int): deliveries in a row that failed for good
        created_at (datetime.datetime):
        description (str):
        disabled_reason (None | WebhookEndpointWithSecretDisabledReasonType0): why deliveries stopped: the operator
            disabled it, or too many deliveries in a row failed
        enabled (bool):
        events (list[str]):
        id (str):
        secret (None | str): the signing secret (whsec_...): shown in this reply only, keep it safe; null when a repeat
            of the request comes after that secret expired
        secret_rotating_until (datetime.datetime | None): while set, deliveries are also signed with the previous
            secret, until then
        updated_at (datetime.datetime):
        url (str):
    """

    consecutive_failures: int
    created_at: datetime.datetime
    description: str
    disabled_reason: None | WebhookEndpointWithSecretDisabledReasonType0
    enabled: bool
    events: list[str]
    id: str
    secret: None | str
    secret_rotating_until: datetime.datetime | None
    updated_at: datetime.datetime
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        consecutive_failures = self.consecutive_failures

        created_at = self.created_at.isoformat()

        description = self.description

        disabled_reason: None | str
        if isinstance(self.disabled_reason, WebhookEndpointWithSecretDisabledReasonType0):
            disabled_reason = self.disabled_reason.value
        else:
            disabled_reason = self.disabled_reason

        enabled = self.enabled

        events = self.events

        id = self.id

        secret: None | str
        secret = self.secret

        secret_rotating_until: None | str
        if isinstance(self.secret_rotating_until, datetime.datetime):
            secret_rotating_until = self.secret_rotating_until.isoformat()
        else:
            secret_rotating_until = self.secret_rotating_until

        updated_at = self.updated_at.isoformat()

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "consecutive_failures": consecutive_failures,
                "created_at": created_at,
                "description": description,
                "disabled_reason": disabled_reason,
                "enabled": enabled,
                "events": events,
                "id": id,
                "secret": secret,
                "secret_rotating_until": secret_rotating_until,
                "updated_at": updated_at,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        consecutive_failures = d.pop("consecutive_failures")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        description = d.pop("description")

        def _parse_disabled_reason(data: object) -> None | WebhookEndpointWithSecretDisabledReasonType0:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disabled_reason_type_0 = WebhookEndpointWithSecretDisabledReasonType0(data)

                return disabled_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | WebhookEndpointWithSecretDisabledReasonType0, data)

        disabled_reason = _parse_disabled_reason(d.pop("disabled_reason"))

        enabled = d.pop("enabled")

        events = cast(list[str], d.pop("events"))

        id = d.pop("id")

        def _parse_secret(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        secret = _parse_secret(d.pop("secret"))

        def _parse_secret_rotating_until(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                secret_rotating_until_type_0 = datetime.datetime.fromisoformat(data)

                return secret_rotating_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        secret_rotating_until = _parse_secret_rotating_until(d.pop("secret_rotating_until"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        url = d.pop("url")

        webhook_endpoint_with_secret = cls(
            consecutive_failures=consecutive_failures,
            created_at=created_at,
            description=description,
            disabled_reason=disabled_reason,
            enabled=enabled,
            events=events,
            id=id,
            secret=secret,
            secret_rotating_until=secret_rotating_until,
            updated_at=updated_at,
            url=url,
        )

        webhook_endpoint_with_secret.additional_properties = d
        return webhook_endpoint_with_secret

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
