from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ExportedEmail")


@_attrs_define
class ExportedEmail:
    """
    Attributes:
        message_id (str):
        sent_at (datetime.datetime): when the email provider accepted it
        subject (str):
        template (str):
    """

    message_id: str
    sent_at: datetime.datetime
    subject: str
    template: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = self.message_id

        sent_at = self.sent_at.isoformat()

        subject = self.subject

        template = self.template

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message_id": message_id,
                "sent_at": sent_at,
                "subject": subject,
                "template": template,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message_id = d.pop("message_id")

        sent_at = datetime.datetime.fromisoformat(d.pop("sent_at"))

        subject = d.pop("subject")

        template = d.pop("template")

        exported_email = cls(
            message_id=message_id,
            sent_at=sent_at,
            subject=subject,
            template=template,
        )

        exported_email.additional_properties = d
        return exported_email

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
