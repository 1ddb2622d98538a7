from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.plan_out_frequency import PlanOutFrequency
from ..models.plan_out_kind import PlanOutKind
from ..models.plan_out_status import PlanOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.installment_out import InstallmentOut


T = TypeVar("T", bound="PlanOut")


@_attrs_define
class PlanOut:
    """
    Attributes:
        frequency (PlanOutFrequency):
        id (str):
        installments (list[InstallmentOut]):
        status (PlanOutStatus):
        kind (PlanOutKind | Unset):  Default: PlanOutKind.INSTALLMENTS.
        next_charge_at (datetime.datetime | None | Unset): when the charge run next looks at it
    """

    frequency: PlanOutFrequency
    id: str
    installments: list[InstallmentOut]
    status: PlanOutStatus
    kind: PlanOutKind | Unset = PlanOutKind.INSTALLMENTS
    next_charge_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frequency = self.frequency.value

        id = self.id

        installments = []
        for installments_item_data in self.installments:
            installments_item = installments_item_data.to_dict()
            installments.append(installments_item)

        status = self.status.value

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        next_charge_at: None | str | Unset
        if isinstance(self.next_charge_at, Unset):
            next_charge_at = UNSET
        elif isinstance(self.next_charge_at, datetime.datetime):
            next_charge_at = self.next_charge_at.isoformat()
        else:
            next_charge_at = self.next_charge_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frequency": frequency,
                "id": id,
                "installments": installments,
                "status": status,
            }
        )
        if kind is not UNSET:
            field_dict["kind"] = kind
        if next_charge_at is not UNSET:
            field_dict["next_charge_at"] = next_charge_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.installment_out import InstallmentOut  # noqa: PLC0415

        d = dict(src_dict)
        frequency = PlanOutFrequency(d.pop("frequency"))

        id = d.pop("id")

        installments = []
        _installments = d.pop("installments")
        for installments_item_data in _installments:
            installments_item = InstallmentOut.from_dict(installments_item_data)

            installments.append(installments_item)

        status = PlanOutStatus(d.pop("status"))

        _kind = d.pop("kind", UNSET)
        kind: PlanOutKind | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = PlanOutKind(_kind)

        def _parse_next_charge_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_charge_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_charge_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_charge_at = _parse_next_charge_at(d.pop("next_charge_at", UNSET))

        plan_out = cls(
            frequency=frequency,
            id=id,
            installments=installments,
            status=status,
            kind=kind,
            next_charge_at=next_charge_at,
        )

        plan_out.additional_properties = d
        return plan_out

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
