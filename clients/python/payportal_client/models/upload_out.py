from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.upload_form_out import UploadFormOut


T = TypeVar("T", bound="UploadOut")


@_attrs_define
class UploadOut:
    """
    Attributes:
        expires_at (datetime.datetime): the form must be sent before this instant
        max_bytes (int): the largest file the form takes (S3 refuses a larger one)
        upload (UploadFormOut):
        upload_id (str): what POST /v1/imports takes once the file is uploaded
    """

    expires_at: datetime.datetime
    max_bytes: int
    upload: UploadFormOut
    upload_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at.isoformat()

        max_bytes = self.max_bytes

        upload = self.upload.to_dict()

        upload_id = self.upload_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "max_bytes": max_bytes,
                "upload": upload,
                "upload_id": upload_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.upload_form_out import UploadFormOut  # noqa: PLC0415

        d = dict(src_dict)
        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        max_bytes = d.pop("max_bytes")

        upload = UploadFormOut.from_dict(d.pop("upload"))

        upload_id = d.pop("upload_id")

        upload_out = cls(
            expires_at=expires_at,
            max_bytes=max_bytes,
            upload=upload,
            upload_id=upload_id,
        )

        upload_out.additional_properties = d
        return upload_out

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
