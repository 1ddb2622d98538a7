from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReminderOut")


@_attrs_define
class ReminderOut:
    """
    Attributes:
        channel (str): how the reminder was sent
        sent_at (datetime.datetime): when the dunning run sent the reminder
        step (str): the dunning step's key
        template (str): the reminder copy the step used
    """

    channel: str
    sent_at: datetime.datetime
    step: str
    template: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        channel = self.channel

        sent_at = self.sent_at.isoformat()

        step = self.step

        template = self.template

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "channel": channel,
                "sent_at": sent_at,
                "step": step,
                "template": template,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        channel = d.pop("channel")

        sent_at = datetime.datetime.fromisoformat(d.pop("sent_at"))

        step = d.pop("step")

        template = d.pop("template")

        reminder_out = cls(
            channel=channel,
            sent_at=sent_at,
            step=step,
            template=template,
        )

        reminder_out.additional_properties = d
        return reminder_out

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
