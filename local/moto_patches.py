"""moto's DynamoDB at the local stack's scale: a transaction rolled back item by item instead of table by
table, a Query answered from its partition, and a stream that keeps its records packed.

moto 5.2.5 takes `copy.deepcopy` of every table a transaction names, once per item of the transaction,
before it writes anything, and on a cancellation swaps the copies in. A write therefore costs time and
memory in proportion to the table: at 1,700 items `make dev` took 1-7 s per write and grew to 18 GB.
Here the transaction journals what it is about to change: a copy of each item it touches (or the fact
that there was none) and the length of each touched table's stream, and a cancellation puts exactly
those back. A write costs what its own items cost, whatever the table holds (docs/decisions.md, entry 37).

The same table object stays in place, so its stream shard does too: a cancelled transaction leaves no
record on the stream, and a shard iterator handed out earlier keeps pointing at the live shard (what the
earlier patch here, `keep_stream_shards_on_rollback`, did on top of the copy).

A Query gets the same treatment: moto 5.2.5 answers every Query from `Table.all_items()`, the whole table
sorted by key (17 s a Query at 100,000 items). Inside a Query, `all_items` here hands over only the queried
partition (a table Query) or the items unsorted (an index Query, whose matches moto sorts by their full key
itself), so a Query reads its partition, or makes one pass over the table for an index.

And the stream keeps each record pickled: moto holds every record of the table's life as nested dicts
(the item's whole image, about 4.5 KB a record), which at 100,000 writes was most of the stack's memory.

`install()` is the one entry point; the local stack (so its benchmark, benchmarks/local_stack.py) and the
integration tests call it. It refuses to patch a moto whose patched functions are not the ones this was
written against (a digest of each one's source), and proves on a scratch table, before it patches, that a
cancelled transaction leaves the whole table state (every attribute moto keeps on it) as it was, and that a
committed one, a set of Queries and a stream record match moto's own: so a moto upgrade that changes what a
write mutates stops the stack at start-up instead of rolling back wrongly.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import pickle
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import moto
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, Table

# The source of moto's DynamoDBBackend.transact_write_items (moto 5.2.5) that `_transact_write_items` below
# copies, save for the rollback. Another moto: compare its function with ours, port what changed, then
# update both values.
WRITTEN_AGAINST = "5.2.5"
ORIGINAL_SHA256 = "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4"
# Table.query, and the two functions whose contract the Query patch relies on: all_items is its only source of
# items, and sorted_items orders an index Query's matches by every key (index and table), whatever came first.
QUERY_SHA256 = {
    "query": "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e",
    "all_items": "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d",
    "sorted_items": "216dac1cd6b659d283e91006b809136623723efb90125b015e07052478724937",
}
# StreamRecord's two methods: __init__ builds `record` (and nothing else keeps it); to_json hands it out.
STREAM_RECORD_SHA256 = {
    "__init__": "511904c6352cfd9a0dc7eb26ebbff6ad007d734698d7097b194f7f56a85482be",
    "to_json": "99dcfe1e37055a23bee8b4eb41953a8f4c281e02ad84876a2a343fb0a79394e4",
}

_MARKER = "payportal_rolls_back_items"


class MotoChanged(RuntimeError):
    """moto is not the shape these patches were written against; patching it could roll back wrongly."""


@dataclass(slots=True)
class _Journal:
    """What a transaction is about to change, recorded before it changes it."""

    # (table, hash key, range key, whether the hash key had a partition, the item as it was or None)
    items: list[tuple[Table, DynamoType, DynamoType | None, bool, Item | None]] = field(default_factory=list)
    # per touched table: its stream shard's record list and that list's length
    streams: dict[int, tuple[Table, list[StreamRecord], int]] = field(default_factory=dict)
    _seen: set[tuple[int, DynamoType, DynamoType | None]] = field(default_factory=set)

    def remember(self, backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> None:
        try:
            table = backend.get_table(table_name)
            hash_key, range_key = backend.get_keys_value(table, key)
        except Exception:
            # The operation's own lookup (backend.get_item, the same two calls) fails the same way right
            # after this, before it writes anything: there is nothing of it to put back.
            return
        if (id(table), hash_key, range_key) in self._seen:
            return
        self._seen.add((id(table), hash_key, range_key))
        shard = table.stream_shard
        if shard is not None and id(table) not in self.streams:
            self.streams[id(table)] = (table, shard.items, len(shard.items))
        # Read without Table.get_item: on a range-keyed table it adds an empty partition for a missing hash key.
        had_partition = hash_key in table.items
        if range_key:
            current = table.items[hash_key].get(range_key) if had_partition else None
        else:
            current = table.items.get(hash_key)
        saved = copy.deepcopy(current) if current is not None else None  # UpdateItem changes items in place
        self.items.append((table, hash_key, range_key, had_partition, saved))

    def roll_back(self) -> None:
        for table, hash_key, range_key, had_partition, saved in reversed(self.items):
            if not range_key:
                if saved is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = saved  # type: ignore[assignment]  # moto types only range-keyed tables
                continue
            partition = table.items.get(hash_key)
            if saved is not None:
                table.items[hash_key][range_key] = saved
            elif partition is not None:
                partition.pop(range_key, None)
                if not had_partition and not partition:
                    del table.items[hash_key]
        for table, records, length in self.streams.values():
            del records[length:]
            if table.stream_shard is not None:
                table.stream_shard.items = records


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's transact_write_items (5.2.5) with `_Journal` in place of the deep copies of whole tables."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    for item in transact_items:
        next(iter(item.items()))  # moto's backup loop did this first: the same error for an empty operation
    journal = _Journal()

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []  # [(Code, Message, Item), ..]
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        # Check transact writes are not performing multiple operations on the same item
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)
            journal.remember(self, table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            journal.roll_back()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # moto's own catch-all: the reason names the exception
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        journal.roll_back()
        raise TransactionCanceledException(errors)


# Inside Table.query: (index name, hash key) of the Query being answered, for _all_items.
_querying: ContextVar[tuple[str | None, DynamoType | None] | None] = ContextVar("payportal_querying", default=None)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    """moto's Table.query, with `_all_items` told which Query it serves."""
    bound = _QUERY_SIGNATURE.bind(self, *args, **kwargs)
    token = _querying.set((bound.arguments.get("index_name"), bound.arguments.get("hash_key")))
    try:
        return _replaced_table["query"](self, *args, **kwargs)
    finally:
        _querying.reset(token)


def _all_items(self: Table) -> list[Item]:
    """moto's Table.all_items outside a Query; inside one, only what the Query looks at, unsorted."""
    scope = _querying.get()
    if scope is None:
        return _replaced_table["all_items"](self)
    index_name, hash_key = scope
    if index_name is None and hash_key is not None:  # a table Query keeps this partition and sorts it by range key
        found = self.items.get(hash_key)
        if found is None:
            return []
        return list(found.values()) if self.range_key_attr else [found]  # type: ignore[list-item]
    if self.range_key_attr:  # an index Query keeps its matches and sorts them by all their keys
        return [item for partition in self.items.values() for item in partition.values()]
    return list(self.items.values())  # type: ignore[arg-type]


_QUERY_SIGNATURE = inspect.signature(Table.query)


class _Unpickled:
    """StreamRecord.record, read back from the pickle: a fresh dict for each reader, as moto's own callers
    copy it anyway. A non-data descriptor, so moto's __init__ still builds `record` as a plain attribute."""

    def __get__(self, record: Any, owner: type | None = None) -> Any:
        if record is None:
            return self
        return pickle.loads(record._packed)  # noqa: S301  # our own bytes, made just below


def _stream_record_init(self: StreamRecord, *args: Any, **kwargs: Any) -> None:
    _replaced_table["stream_record_init"](self, *args, **kwargs)
    self._packed = pickle.dumps(vars(self).pop("record"), protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[attr-defined]


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent); MotoChanged if moto is not as expected."""
    current = DynamoDBBackend.transact_write_items
    if getattr(current, _MARKER, False):
        return
    _check_original(current)
    _prove(current, _transact_write_items)
    _check_sources(Table, QUERY_SHA256, "the Query patch", "takes its items from all_items only and sorts them itself")
    _check_sources(StreamRecord, STREAM_RECORD_SHA256, "the stream patch", "keeps its record in `record` only")
    _replaced_table.update(query=Table.query, all_items=Table.all_items, stream_record_init=StreamRecord.__init__)
    _prove_query()
    _prove_stream_record()
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    StreamRecord.__init__ = _stream_record_init  # type: ignore[method-assign]
    StreamRecord.record = _Unpickled()  # type: ignore[assignment]
    setattr(_transact_write_items, _MARKER, True)
    _replaced["transact_write_items"] = current
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


def original_transact_write_items() -> Callable[[DynamoDBBackend, list[dict[str, Any]]], None]:
    """moto's own function, deep copies and all, once `install()` has replaced it (the benchmark compares)."""
    return _replaced["transact_write_items"]


_replaced: dict[str, Callable[[DynamoDBBackend, list[dict[str, Any]]], None]] = {}
_replaced_table: dict[str, Callable[..., Any]] = {}


def _check_sources(owner: type, expected: dict[str, str], patch: str, contract: str) -> None:
    for name, digest in expected.items():
        try:
            source = inspect.getsource(getattr(owner, name))
        except (OSError, TypeError) as error:
            raise MotoChanged(f"cannot read moto's {owner.__name__}.{name}: {error}") from error
        if hashlib.sha256(source.encode()).hexdigest() != digest:
            raise MotoChanged(
                f"moto {moto.__version__}'s {owner.__name__}.{name} is not the one (moto {WRITTEN_AGAINST}) {patch} "
                f"in local/moto_patches.py was written against: check that it still {contract}, then update its "
                "digest there (docs/decisions.md, entry 37)"
            )


def _check_original(function: Callable[..., Any]) -> None:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError) as error:
        raise MotoChanged(f"cannot read moto's DynamoDBBackend.transact_write_items: {error}") from error
    digest = hashlib.sha256(source.encode()).hexdigest()
    if digest != ORIGINAL_SHA256:
        raise MotoChanged(
            f"moto {moto.__version__}'s DynamoDBBackend.transact_write_items is not the one (moto {WRITTEN_AGAINST}) "
            "that local/moto_patches.py copies: port what changed into _transact_write_items, then update "
            "WRITTEN_AGAINST and ORIGINAL_SHA256 (docs/decisions.md, entry 37)"
        )
    for owner, names in (
        (DynamoDBBackend, ("get_table", "get_keys_value", "get_item", "put_item", "update_item", "delete_item")),
        (Table, ("get_item", "put_item", "delete_item")),
    ):
        missing = [name for name in names if not callable(getattr(owner, name, None))]
        if missing:
            raise MotoChanged(f"moto {moto.__version__}: {owner.__name__} has no {', '.join(missing)}")


# -- the proof at install: ours against moto's own, on a scratch table ------------------------------------

_TABLE = "moto-patches-self-test"


def _scratch_backend() -> DynamoDBBackend:
    backend = DynamoDBBackend(region_name="us-east-1", account_id="000000000000")
    backend.tables[_TABLE] = Table(  # type: ignore[abstract]  # abstract for CloudFormation only
        _TABLE,
        account_id="000000000000",
        region="us-east-1",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        attr=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gpk", "AttributeType": "S"},
        ],
        global_indexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for pk, sk in (("A", "1"), ("A", "2"), ("B", "1")):
        backend.put_item(_TABLE, {"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": "1"}, "gpk": {"S": "g"}})
    return backend


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _writes(last: dict[str, Any]) -> list[dict[str, Any]]:
    """One of each write (update, delete, put in a new and in an existing partition, a check on nothing), then
    `last`."""
    return [
        {
            "Update": {
                "TableName": _TABLE,
                "Key": _key("A", "1"),
                "UpdateExpression": "SET n = n + :one, m = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": _TABLE, "Key": _key("B", "1")}},
        {"Put": {"TableName": _TABLE, "Item": {**_key("C", "1"), "gpk": {"S": "g"}}}},
        {"Put": {"TableName": _TABLE, "Item": {**_key("A", "3")}}},
        {
            "ConditionCheck": {
                "TableName": _TABLE,
                "Key": _key("D", "1"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        last,
    ]


_FAILING = {
    "ConditionCheck": {
        "TableName": _TABLE,
        "Key": _key("A", "2"),
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
}
_PASSING = {
    "ConditionCheck": {"TableName": _TABLE, "Key": _key("A", "2"), "ConditionExpression": "attribute_exists(pk)"}
}
_TWICE = {"Put": {"TableName": _TABLE, "Item": _key("A", "1")}}


def _prove(original: Callable[..., None], ours: Callable[..., None]) -> None:
    for name, last in (("cancelled", _FAILING), ("invalid", _TWICE)):
        backend = _scratch_backend()
        before = _state(backend.tables[_TABLE])
        theirs = _outcome(original, _scratch_backend(), _writes(last))
        mine = _outcome(ours, backend, _writes(last))
        if mine[0] != theirs[0] or _state(backend.tables[_TABLE]) != before:
            raise MotoChanged(
                f"moto {moto.__version__}: a {name} transaction is not rolled back item by item as expected"
            )
    mine = _outcome(ours, _scratch_backend(), _writes(_PASSING))
    theirs = _outcome(original, _scratch_backend(), _writes(_PASSING))
    if mine != theirs:
        raise MotoChanged(f"moto {moto.__version__}: a committed transaction differs from moto's own")


def _queries(backend: DynamoDBBackend) -> list[Any]:
    """Table and index Queries on the scratch table: forward, backward, by range, paged, missing."""
    answers = []
    args: tuple[Any, ...]
    for args in (
        ({"S": "A"}, None, [], None, None, True, None),
        ({"S": "A"}, None, [], None, None, False, None),
        ({"S": "A"}, "BEGINS_WITH", [{"S": "2"}], None, None, True, None),
        ({"S": "A"}, None, [], 1, {"pk": {"S": "A"}, "sk": {"S": "1"}}, True, None),
        ({"S": "nothing"}, None, [], None, None, True, None),
    ):
        found, scanned, last = backend.query(_TABLE, *args)
        answers.append(([i.to_json() for i in found], scanned, last))
    for forward in (True, False):
        found, scanned, last = backend.query(
            _TABLE,
            None,
            None,
            [],
            None,  # type: ignore[arg-type]  # moto passes None for no limit and no start key
            None,  # type: ignore[arg-type]
            forward,
            None,
            index_name="by_g",
            hash_key_conditions=[("gpk", {"S": "g"})],
        )
        answers.append(([i.to_json() for i in found], scanned, last))
    return answers


def _prove_query() -> None:
    backend = _scratch_backend()
    for pk, sk, g in (("A", "3", "h"), ("A", "22", "g"), ("C", "1", "g"), ("B", "0", "h")):
        backend.put_item(_TABLE, {"pk": {"S": pk}, "sk": {"S": sk}, "gpk": {"S": g}})
    theirs = _queries(backend)
    token = _querying.set(None)
    try:
        Table.query, Table.all_items = _query, _all_items  # type: ignore[method-assign]
        ours = _queries(backend)
    finally:
        Table.query, Table.all_items = _replaced_table["query"], _replaced_table["all_items"]  # type: ignore[method-assign]
        _querying.reset(token)
    if ours != theirs:
        raise MotoChanged(f"moto {moto.__version__}: a Query read through the partition differs from moto's own")


def _prove_stream_record() -> None:
    table = _scratch_backend().tables[_TABLE]
    old = Item(DynamoType({"S": "A"}), DynamoType({"S": "1"}), {"pk": {"S": "A"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    new = Item(DynamoType({"S": "A"}), DynamoType({"S": "1"}), {"pk": {"S": "A"}, "sk": {"S": "1"}, "n": {"N": "2"}})
    theirs = StreamRecord(table, "NEW_AND_OLD_IMAGES", "MODIFY", old, new, 7).to_json()
    ours: StreamRecord = object.__new__(StreamRecord)  # built by the patched __init__, before it is installed
    _stream_record_init(ours, table, "NEW_AND_OLD_IMAGES", "MODIFY", old, new, 7)
    record = _Unpickled().__get__(ours)
    varying = ("eventID", "ApproximateCreationDateTime", "SizeBytes")  # made afresh for each record
    for answer in (theirs, record):
        answer.pop("eventID")
        answer["dynamodb"].pop("ApproximateCreationDateTime")
        answer["dynamodb"].pop("SizeBytes")
    if record != theirs or set(vars(ours)) & {"record"}:
        raise MotoChanged(f"moto {moto.__version__}: a stream record kept pickled is not moto's own ({varying} aside)")


def _outcome(function: Callable[..., None], backend: DynamoDBBackend, writes: list[dict[str, Any]]) -> tuple[Any, Any]:
    """What a caller can see: the error (type and body) and the table's items and stream afterwards."""
    try:
        function(backend, writes)
        error: Any = None
    except Exception as raised:
        error = (type(raised).__name__, getattr(raised, "description", str(raised)))
    table = backend.tables[_TABLE]
    items = {(i.hash_key, i.range_key): i.to_json() for i in table.all_items()}
    stream = [
        # the time a record was made, and its size (which counts that time's digits), vary from run to run
        {k: v for k, v in r.to_json()["dynamodb"].items() if k not in {"ApproximateCreationDateTime", "SizeBytes"}}
        | {"eventName": r.to_json()["eventName"]}
        for r in (table.stream_shard.items if table.stream_shard else [])
    ]
    return error, (items, stream)


def _state(value: Any, active: frozenset[int] = frozenset()) -> Any:
    """Everything moto keeps on an object, as comparable values (a reference back up the path is cut)."""
    if isinstance(value, DynamoType):  # compares by value
        return value
    if isinstance(value, dict):  # items' LimitedSizeDict too
        return {k: _state(v, active) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_state(v, active) for v in value]
    if not hasattr(value, "__dict__"):
        return value
    if id(value) in active:
        return "<up>"
    return (type(value).__name__, _state(vars(value), active | {id(value)}))
