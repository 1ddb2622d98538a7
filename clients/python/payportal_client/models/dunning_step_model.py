from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.dunning_step_model_template import DunningStepModelTemplate
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.late_fee_model import LateFeeModel


T = TypeVar("T", bound="DunningStepModel")


@_attrs_define
class DunningStepModel:
    """
    Attributes:
        offset_days (int): days relative to the due date; negative is before
        template (DunningStepModelTemplate):
        late_fee (LateFeeModel | None | Unset): added once, as its own line, when sent
    """

    offset_days: int
    template: DunningStepModelTemplate
    late_fee: LateFeeModel | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.late_fee_model import LateFeeModel  # noqa: PLC0415

        offset_days = self.offset_days

        template = self.template.value

        late_fee: dict[str, Any] | None | Unset
        if isinstance(self.late_fee, Unset):
            late_fee = UNSET
        elif isinstance(self.late_fee, LateFeeModel):
            late_fee = self.late_fee.to_dict()
        else:
            late_fee = self.late_fee

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "offset_days": offset_days,
                "template": template,
            }
        )
        if late_fee is not UNSET:
            field_dict["late_fee"] = late_fee

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.late_fee_model import LateFeeModel  # noqa: PLC0415

        d = dict(src_dict)
        offset_days = d.pop("offset_days")

        template = DunningStepModelTemplate(d.pop("template"))

        def _parse_late_fee(data: object) -> LateFeeModel | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                late_fee_type_0 = LateFeeModel.from_dict(data)

                return late_fee_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LateFeeModel | None | Unset, data)

        late_fee = _parse_late_fee(d.pop("late_fee", UNSET))

        dunning_step_model = cls(
            offset_days=offset_days,
            template=template,
            late_fee=late_fee,
        )

        return dunning_step_model
