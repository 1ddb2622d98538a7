"""Files uploaded for a bulk import, in S3: a presigned POST that takes one file of at most a given size (S3
refuses a larger one), then read once by the imports worker and deleted. The bucket's lifecycle removes what
is left after a day (infra/components/imports.py)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shared.domain.imports import ImportFileTooLarge
from shared.services.ports import UploadForm

_MISSING = ("404", "NoSuchKey", "NotFound")


class S3ImportFiles:
    """Implements the ImportFiles port."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def upload_form(self, key: str, max_bytes: int, expires_in_seconds: int) -> UploadForm:
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in_seconds,
        )
        return UploadForm(url=str(post["url"]), fields={str(k): str(v) for k, v in post["fields"].items()})

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def read(self, key: str, max_bytes: int) -> bytes | None:
        try:
            reply = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        body = reply["Body"]
        try:
            data: bytes = body.read(max_bytes + 1)  # never more than the limit into memory
        finally:
            body.close()
        if len(data) > max_bytes:
            raise ImportFileTooLarge(f"the file is larger than {max_bytes:,} bytes; split it", field="content")
        return data

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=key)
