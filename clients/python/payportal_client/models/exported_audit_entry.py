from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.exported_audit_entry_details import ExportedAuditEntryDetails


T = TypeVar("T", bound="ExportedAuditEntry")


@_attrs_define
class ExportedAuditEntry:
    """
    Attributes:
        action (str):
        actor (str):
        at (datetime.datetime):
        cause (None | str): "stripe_event:evt_..." when a Stripe event caused it
        details (ExportedAuditEntryDetails):
        id (str):
    """

    action: str
    actor: str
    at: datetime.datetime
    cause: None | str
    details: ExportedAuditEntryDetails
    id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        cause: None | str
        cause = self.cause

        details = self.details.to_dict()

        id = self.id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "cause": cause,
                "details": details,
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.exported_audit_entry_details import ExportedAuditEntryDetails  # noqa: PLC0415

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        def _parse_cause(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cause = _parse_cause(d.pop("cause"))

        details = ExportedAuditEntryDetails.from_dict(d.pop("details"))

        id = d.pop("id")

        exported_audit_entry = cls(
            action=action,
            actor=actor,
            at=at,
            cause=cause,
            details=details,
            id=id,
        )

        exported_audit_entry.additional_properties = d
        return exported_audit_entry

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
