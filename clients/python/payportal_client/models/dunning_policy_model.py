from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dunning_step_model import DunningStepModel
    from ..models.plan_offer_model import PlanOfferModel


T = TypeVar("T", bound="DunningPolicyModel")


@_attrs_define
class DunningPolicyModel:
    """
    Attributes:
        steps (list[DunningStepModel]):
        default_installments (None | PlanOfferModel | Unset): installment plans offered on new invoices that set none of
            their own
        mark_uncollectible_after_days (int | None | Unset): days after the due date an unpaid invoice is written off
        window_end (str | Unset): customer's local time it closes, e.g. 18:00 Default: '18:00:00'.
        window_start (str | Unset): customer's local time the sending window opens, e.g. 09:00 (no UTC offset) Default:
            '09:00:00'.
    """

    steps: list[DunningStepModel]
    default_installments: None | PlanOfferModel | Unset = UNSET
    mark_uncollectible_after_days: int | None | Unset = UNSET
    window_end: str | Unset = "18:00:00"
    window_start: str | Unset = "09:00:00"

    def to_dict(self) -> dict[str, Any]:
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        default_installments: dict[str, Any] | None | Unset
        if isinstance(self.default_installments, Unset):
            default_installments = UNSET
        elif isinstance(self.default_installments, PlanOfferModel):
            default_installments = self.default_installments.to_dict()
        else:
            default_installments = self.default_installments

        mark_uncollectible_after_days: int | None | Unset
        if isinstance(self.mark_uncollectible_after_days, Unset):
            mark_uncollectible_after_days = UNSET
        else:
            mark_uncollectible_after_days = self.mark_uncollectible_after_days

        window_end = self.window_end

        window_start = self.window_start

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "steps": steps,
            }
        )
        if default_installments is not UNSET:
            field_dict["default_installments"] = default_installments
        if mark_uncollectible_after_days is not UNSET:
            field_dict["mark_uncollectible_after_days"] = mark_uncollectible_after_days
        if window_end is not UNSET:
            field_dict["window_end"] = window_end
        if window_start is not UNSET:
            field_dict["window_start"] = window_start

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dunning_step_model import DunningStepModel  # noqa: PLC0415
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415

        d = dict(src_dict)
        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = DunningStepModel.from_dict(steps_item_data)

            steps.append(steps_item)

        def _parse_default_installments(data: object) -> None | PlanOfferModel | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                default_installments_type_0 = PlanOfferModel.from_dict(data)

                return default_installments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlanOfferModel | Unset, data)

        default_installments = _parse_default_installments(d.pop("default_installments", UNSET))

        def _parse_mark_uncollectible_after_days(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        mark_uncollectible_after_days = _parse_mark_uncollectible_after_days(
            d.pop("mark_uncollectible_after_days", UNSET)
        )

        window_end = d.pop("window_end", UNSET)

        window_start = d.pop("window_start", UNSET)

        dunning_policy_model = cls(
            steps=steps,
            default_installments=default_installments,
            mark_uncollectible_after_days=mark_uncollectible_after_days,
            window_end=window_end,
            window_start=window_start,
        )

        return dunning_policy_model
