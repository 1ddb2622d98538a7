from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.new_import_format import NewImportFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewImport")


@_attrs_define
class NewImport:
    """A file of customers and invoices (docs/integrations.md names the columns).

    Attributes:
        content (str): the file's text, UTF-8
        format_ (NewImportFormat | Unset): CSV with a header row, or JSON lines Default: NewImportFormat.CSV.
    """

    content: str
    format_: NewImportFormat | Unset = NewImportFormat.CSV

    def to_dict(self) -> dict[str, Any]:
        content = self.content

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content": content,
            }
        )
        if format_ is not UNSET:
            field_dict["format"] = format_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        content = d.pop("content")

        _format_ = d.pop("format", UNSET)
        format_: NewImportFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = NewImportFormat(_format_)

        new_import = cls(
            content=content,
            format_=format_,
        )

        return new_import
