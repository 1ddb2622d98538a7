from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.audit_entry_out_details import AuditEntryOutDetails
    from ..models.caused_by import CausedBy


T = TypeVar("T", bound="AuditEntryOut")


@_attrs_define
class AuditEntryOut:
    """
    Attributes:
        action (str):
        actor (str): "stripe", "customer", the IAM identity of an operator request, "scheduler"
        at (datetime.datetime):
        caused_by (CausedBy):
        details (AuditEntryOutDetails): what changed: ids, amounts in minor units, and for corrections each field's from
            and to
        id (str):
    """

    action: str
    actor: str
    at: datetime.datetime
    caused_by: CausedBy
    details: AuditEntryOutDetails
    id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        caused_by = self.caused_by.to_dict()

        details = self.details.to_dict()

        id = self.id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "caused_by": caused_by,
                "details": details,
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_entry_out_details import AuditEntryOutDetails  # noqa: PLC0415
        from ..models.caused_by import CausedBy  # noqa: PLC0415

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        caused_by = CausedBy.from_dict(d.pop("caused_by"))

        details = AuditEntryOutDetails.from_dict(d.pop("details"))

        id = d.pop("id")

        audit_entry_out = cls(
            action=action,
            actor=actor,
            at=at,
            caused_by=caused_by,
            details=details,
            id=id,
        )

        audit_entry_out.additional_properties = d
        return audit_entry_out

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
