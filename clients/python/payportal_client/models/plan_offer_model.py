from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.plan_offer_model_frequencies_item import PlanOfferModelFrequenciesItem
from ..types import UNSET, Unset

T = TypeVar("T", bound="PlanOfferModel")


@_attrs_define
class PlanOfferModel:
    """
    Attributes:
        max_installments (int): the most installments a customer may choose
        min_installment_amount (int): no installment may be smaller, minor units
        frequencies (list[PlanOfferModelFrequenciesItem] | Unset):
    """

    max_installments: int
    min_installment_amount: int
    frequencies: list[PlanOfferModelFrequenciesItem] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        max_installments = self.max_installments

        min_installment_amount = self.min_installment_amount

        frequencies: list[str] | Unset = UNSET
        if not isinstance(self.frequencies, Unset):
            frequencies = []
            for frequencies_item_data in self.frequencies:
                frequencies_item = frequencies_item_data.value
                frequencies.append(frequencies_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "max_installments": max_installments,
                "min_installment_amount": min_installment_amount,
            }
        )
        if frequencies is not UNSET:
            field_dict["frequencies"] = frequencies

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_installments = d.pop("max_installments")

        min_installment_amount = d.pop("min_installment_amount")

        _frequencies = d.pop("frequencies", UNSET)
        frequencies: list[PlanOfferModelFrequenciesItem] | Unset = UNSET
        if _frequencies is not UNSET:
            frequencies = []
            for frequencies_item_data in _frequencies:
                frequencies_item = PlanOfferModelFrequenciesItem(frequencies_item_data)

                frequencies.append(frequencies_item)

        plan_offer_model = cls(
            max_installments=max_installments,
            min_installment_amount=min_installment_amount,
            frequencies=frequencies,
        )

        return plan_offer_model
