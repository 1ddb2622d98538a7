"""The DynamoDB adapter: the only code that knows the table's items (see shared/schema.py).

codec.py         attribute values <-> Python
items.py         records <-> items, entity keys
writes.py        the write rules a Change commits by: item, condition, rejection
ledger.py        DynamoLedger: reads, and a Change committed as one transaction
outbox_store.py  the outbox's delivery leases
cursors.py       listing cursors

Importing it loads no botocore: the client is built by shared/wiring.py and passed in.
"""

from shared.adapters.dynamodb.ledger import DynamoLedger
from shared.adapters.dynamodb.outbox_store import DynamoOutboxStore
from shared.services.ports import InvalidCursor

__all__ = ["DynamoLedger", "DynamoOutboxStore", "InvalidCursor"]
