"""A stand-in function for the local Lambda runtime's tests, run in worker processes like the real ones.

The request says what to do (`queryStringParameters` of an API Gateway event, or the event itself):
`sleep` seconds, then `do`: `raise`, `exit` (the process dies), `print` a line, or nothing; the answer is a
proxy response with this instance's pid and the business clock's now.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from shared.clock import business_clock


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    asked = event.get("queryStringParameters") or event
    time.sleep(float(asked.get("sleep") or 0))
    match asked.get("do"):
        case "raise":
            raise ValueError("the stand-in was asked to fail")
        case "exit":
            os._exit(3)
        case "print":
            print(f"stand-in says {asked.get('text')}")
    body = {
        "pid": os.getpid(),
        "now": business_clock().now().isoformat(),
        "function_name": context.function_name,
        "environment_function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
