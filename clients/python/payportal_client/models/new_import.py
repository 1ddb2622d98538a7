from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.new_import_format import NewImportFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewImport")


@_attrs_define
class NewImport:
    """A file of customers and invoices (docs/integrations.md names the columns): its text in `content`, or, for a
    file too large for one request, the `upload_id` it was uploaded under (POST /v1/imports/uploads).

        Attributes:
            content (None | str | Unset): the file's text, UTF-8 (or upload_id)
            format_ (NewImportFormat | Unset): CSV with a header row, or JSON lines Default: NewImportFormat.CSV.
            upload_id (None | str | Unset): a file uploaded first (or content)
    """

    content: None | str | Unset = UNSET
    format_: NewImportFormat | Unset = NewImportFormat.CSV
    upload_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        content: None | str | Unset
        if isinstance(self.content, Unset):
            content = UNSET
        else:
            content = self.content

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        upload_id: None | str | Unset
        if isinstance(self.upload_id, Unset):
            upload_id = UNSET
        else:
            upload_id = self.upload_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if content is not UNSET:
            field_dict["content"] = content
        if format_ is not UNSET:
            field_dict["format"] = format_
        if upload_id is not UNSET:
            field_dict["upload_id"] = upload_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_content(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content = _parse_content(d.pop("content", UNSET))

        _format_ = d.pop("format", UNSET)
        format_: NewImportFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = NewImportFormat(_format_)

        def _parse_upload_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        upload_id = _parse_upload_id(d.pop("upload_id", UNSET))

        new_import = cls(
            content=content,
            format_=format_,
            upload_id=upload_id,
        )

        return new_import
