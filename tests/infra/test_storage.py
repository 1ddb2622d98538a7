"""The table is the one in shared/schema.py, encrypted with its own rotating key, and never deleted."""

from __future__ import annotations

from typing import Any, cast

from shared import schema
from tests.infra.conftest import Synthesized, synthesize


def by_name(attribute: dict[str, Any]) -> str:
    return str(attribute["AttributeName"])


def test_table_keys_and_indexes_are_the_ones_in_shared_schema(synthesized: Synthesized) -> None:
    # Given the schema the local stack and the tests create their table from
    expected = schema.create_table_kwargs("unused")

    # When the stack is synthesized
    table = synthesized.resource(synthesized.stack.storage.table)["Properties"]

    # Then AWS gets the same keys, attribute types and indexes, every index but open_balances projecting all attributes
    assert table["KeySchema"] == expected["KeySchema"]
    attribute_definitions = cast(list[dict[str, str]], expected["AttributeDefinitions"])
    assert sorted(table["AttributeDefinitions"], key=by_name) == sorted(attribute_definitions, key=by_name)
    assert table["GlobalSecondaryIndexes"] == expected["GlobalSecondaryIndexes"]
    projections = {index["IndexName"]: index["Projection"] for index in table["GlobalSecondaryIndexes"]}
    assert projections.pop(schema.OPEN_BALANCES_INDEX) == {
        "ProjectionType": "INCLUDE", "NonKeyAttributes": ["currency", schema.OPEN_AMOUNT],
    }  # fmt: skip
    assert {projection["ProjectionType"] for projection in projections.values()} == {"ALL"}


def test_the_lists_index_projects_every_attribute_over_its_own_string_keys(synthesized: Synthesized) -> None:
    # Given the stack; Then the lists index is there, so a list row is one item read (no fetch of the record)
    table = synthesized.resource(synthesized.stack.storage.table)["Properties"]
    [lists] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == schema.LISTS_INDEX]
    assert lists["KeySchema"] == [
        {"AttributeName": schema.LISTS_PK, "KeyType": "HASH"}, {"AttributeName": schema.LISTS_SK, "KeyType": "RANGE"},
    ]  # fmt: skip
    assert lists["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types[schema.LISTS_PK] == types[schema.LISTS_SK] == "S"
    # One index more than before the lists: CloudFormation adds one per update (docs/deploy.md)
    assert len(table["GlobalSecondaryIndexes"]) == 4


def test_table_is_on_demand_with_stream_ttl_and_point_in_time_recovery(synthesized: Synthesized) -> None:
    table = synthesized.resource(synthesized.stack.storage.table)["Properties"]

    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionProtectionEnabled"] is True


def test_table_is_encrypted_with_its_own_rotating_key(synthesized: Synthesized) -> None:
    storage = synthesized.stack.storage
    table = synthesized.resource(storage.table)["Properties"]
    key = synthesized.resource(storage.key)["Properties"]

    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["SSESpecification"]["SSEType"] == "KMS"
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(storage.key), "Arn"]}
    assert key["EnableKeyRotation"] is True


def test_table_and_key_outlive_the_stack_in_every_stage(synthesized: Synthesized) -> None:
    # Given a dev and a prod stack
    prod = synthesize(stage="prod")

    for stack in (synthesized, prod):
        # Then neither the table nor its key is deleted or replaced with the stack
        for construct in (stack.stack.storage.table, stack.stack.storage.key):
            resource = stack.resource(construct)
            assert resource["DeletionPolicy"] == "Retain"
            assert resource["UpdateReplacePolicy"] == "Retain"
