"""AWS clients, built lazily once per container and reused across invocations.

Built on botocore directly rather than boto3: importing boto3 also loads s3transfer, which costs the
webhook's cold start about 50 ms and buys it nothing (docs/decisions.md).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

# Short timeouts and bounded retries: a hung call must fail fast enough for Stripe or the stream to retry.
_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"mode": "standard", "max_attempts": 3},
}


@cache
def _loader() -> Any:
    """botocore's data loader: it keeps every service model and endpoint file it has read, so one per process
    reads each once. `wiring.reset` forgets the session (its credentials and settings) but keeps this: the
    files do not change, and reading them again for every new session cost the tests about a tenth of their
    time (each test's fresh session read the DynamoDB, SES, EventBridge... models anew)."""
    import botocore.loaders  # lazy: as below

    return botocore.loaders.create_loader()


@cache
def _session() -> Any:
    # One session per container: endpoint and model data load once for every client.
    import botocore.session  # lazy: botocore loads when the first client is built, not at import

    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    return session


@cache
def client(service: str) -> Any:
    from botocore.config import Config  # lazy: as above

    # botocore reads AWS_ENDPOINT_URL itself (the local stack); the region comes from Lambda's environment.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _session().create_client(service, region_name=region, config=Config(**_CLIENT_CONFIG))
