from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FailedDeliveryOut")


@_attrs_define
class FailedDeliveryOut:
    """
    Attributes:
        attempts (int):
        event_id (str): the webhook-id it was sent with (the event's id)
        event_type (str):
        failed_at (datetime.datetime):
        id (str):
        last_error (str): at most 200 characters of the last answer, or why there was none
        last_status (int | None): the last answer's HTTP status; null: no answer came
    """

    attempts: int
    event_id: str
    event_type: str
    failed_at: datetime.datetime
    id: str
    last_error: str
    last_status: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        event_id = self.event_id

        event_type = self.event_type

        failed_at = self.failed_at.isoformat()

        id = self.id

        last_error = self.last_error

        last_status: int | None
        last_status = self.last_status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "event_id": event_id,
                "event_type": event_type,
                "failed_at": failed_at,
                "id": id,
                "last_error": last_error,
                "last_status": last_status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        failed_at = datetime.datetime.fromisoformat(d.pop("failed_at"))

        id = d.pop("id")

        last_error = d.pop("last_error")

        def _parse_last_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status = _parse_last_status(d.pop("last_status"))

        failed_delivery_out = cls(
            attempts=attempts,
            event_id=event_id,
            event_type=event_type,
            failed_at=failed_at,
            id=id,
            last_error=last_error,
            last_status=last_status,
        )

        failed_delivery_out.additional_properties = d
        return failed_delivery_out

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
