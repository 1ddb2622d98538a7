from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewWebhookEndpoint")


@_attrs_define
class NewWebhookEndpoint:
    """
    Attributes:
        events (list[str]): domain event types (docs/events.md), or ["*"] for every event
        url (str): https; no user name or password; where it resolves is checked at every delivery
        description (str | Unset):  Default: ''.
    """

    events: list[str]
    url: str
    description: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        events = self.events

        url = self.url

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = cast(list[str], d.pop("events"))

        url = d.pop("url")

        description = d.pop("description", UNSET)

        new_webhook_endpoint = cls(
            events=events,
            url=url,
            description=description,
        )

        return new_webhook_endpoint
