from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.collections_figures import CollectionsFigures
    from ..models.collections_line_out_inputs import CollectionsLineOutInputs


T = TypeVar("T", bound="CollectionsLineOut")


@_attrs_define
class CollectionsLineOut:
    """
    Attributes:
        currency (str):
        dso_capped (bool): the countback ran out of history (24 months) before the receivables
        figures (CollectionsFigures): docs/reports.md defines each; null when there is nothing to measure it on (e.g. no
            invoice paid).
        inputs (CollectionsLineOutInputs): the sums (minor units) and counts the figures come from
    """

    currency: str
    dso_capped: bool
    figures: CollectionsFigures
    inputs: CollectionsLineOutInputs
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        currency = self.currency

        dso_capped = self.dso_capped

        figures = self.figures.to_dict()

        inputs = self.inputs.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "currency": currency,
                "dso_capped": dso_capped,
                "figures": figures,
                "inputs": inputs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.collections_figures import CollectionsFigures  # noqa: PLC0415
        from ..models.collections_line_out_inputs import CollectionsLineOutInputs  # noqa: PLC0415

        d = dict(src_dict)
        currency = d.pop("currency")

        dso_capped = d.pop("dso_capped")

        figures = CollectionsFigures.from_dict(d.pop("figures"))

        inputs = CollectionsLineOutInputs.from_dict(d.pop("inputs"))

        collections_line_out = cls(
            currency=currency,
            dso_capped=dso_capped,
            figures=figures,
            inputs=inputs,
        )

        collections_line_out.additional_properties = d
        return collections_line_out

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
