"""Run a piece of work once per idempotency key: Powertools' idempotency over the payportal table.

Each record sits under its own partition (`IDEMPOTENCY#<scope>`), keyed by the hash of the key; the hash of
the request as sent is kept with it, so the same key with another request is refused
(`IdempotencyValidationError`) and a key still being worked on answers `IdempotencyAlreadyInProgressError`.
Records expire through the table's TTL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import schema


class PowertoolsOnce:
    """The `RunOnce` port (shared.services.ports) over DynamoDB. Built once per container (no I/O here)."""

    def __init__(self, dynamodb: Any, table_name: str, *, scope: str, key_prefix: str, ttl_seconds: int) -> None:
        # Powertools' own default prefix is the Lambda function's name and the decorated function's dotted
        # path; ours is fixed by the caller, so moving code never orphans the records of requests in flight.
        self._key_prefix = f"{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'test-func')}.{key_prefix}"
        self._persistence = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr=schema.PARTITION_KEY,
            sort_key_attr=schema.SORT_KEY,
            static_pk_value=f"IDEMPOTENCY#{scope}",
            expiry_attr=schema.TTL_ATTRIBUTE,
            boto3_client=dynamodb,
        )
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
        )

    def within(self, context: LambdaContext | None) -> PowertoolsOnce:
        """Tell Powertools how long this invocation has, so a key left in progress by a timeout frees up."""
        if context is not None:
            self._config.register_lambda_context(context)
        return self

    def __call__(self, key: str, fingerprint: dict[str, Any], work: Callable[[], dict[str, str]]) -> dict[str, str]:
        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=self._persistence,
            config=self._config,
            key_prefix=self._key_prefix,
        )
        def run(request: dict[str, Any]) -> dict[str, str]:
            return work()

        # The record's key is the hash of "key", its validation hash that of "body".
        return dict(run(request={"key": key, "body": fingerprint}))
