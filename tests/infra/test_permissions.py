"""Each function has its own role, allowed exactly what its job needs."""

from __future__ import annotations

from typing import Any

import pytest

from shared.console_pool import USER_MANAGEMENT_ACTIONS
from tests.infra.conftest import Synthesized

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
READ_ONE, READ_MANY, QUERY = {"dynamodb:GetItem"}, {"dynamodb:BatchGetItem"}, {"dynamodb:Query"}
PUT, UPDATE, DELETE = {"dynamodb:PutItem"}, {"dynamodb:UpdateItem"}, {"dynamodb:DeleteItem"}
CONDITION_CHECK = {"dynamodb:ConditionCheckItem"}
KEY = {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
STRIPE_SECRET = {"secretsmanager:GetSecretValue"}
SEND_EMAIL = {"ses:SendEmail", "ses:SendRawEmail"}
PUBLISH_EVENTS = {"events:PutEvents"}
STREAM = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
DLQ = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
# A scheduled function's own DLQ (the schedule DLQ): what Lambda needs to dead-letter a failed run.
FUNCTION_DLQ = {"sqs:SendMessage"}
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}

EXPECTED_ACTIONS = {
    # Its sessions, codes and counters; the statement's reads; a pay link or autopay off; Stripe for autopay on.
    "account": LOGS | XRAY | READ_ONE | READ_MANY | QUERY | PUT | UPDATE | DELETE | KEY | STRIPE_SECRET,
    "checkout": LOGS | XRAY | READ_ONE | READ_MANY | QUERY | PUT | UPDATE | KEY | STRIPE_SECRET,
    # One BatchGetItem and one TransactWriteItems of Puts (and Updates of counters): nothing else.
    "webhooks": LOGS | XRAY | READ_MANY | PUT | UPDATE | KEY | STRIPE_SECRET,
    # DLQ's actions (SendMessage, GetQueueAttributes, GetQueueUrl): sending an import's chunks to the imports
    # queue, and queueing a failed webhook delivery's replay.
    # and an import's upload form signed with its role (s3:PutObject), and the upload seen to be there (GetObject)
    "operator_api": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | QUERY
    | PUT
    | UPDATE
    | DELETE
    | KEY
    | STRIPE_SECRET
    | DLQ
    | {"s3:PutObject", "s3:GetObject"},
    # The Stripe secret: a receipt names how it was paid, read from Stripe when it is sent.
    "outbox": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | PUT
    | UPDATE
    | KEY
    | SEND_EMAIL
    | PUBLISH_EVENTS
    | STREAM
    | DLQ
    | STRIPE_SECRET,
    # The policy, the due_work index, and one TransactWriteItems per reminder: Puts and a check on the customer;
    # sending and consuming its continuations.
    "reminders": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | QUERY
    | PUT
    | UPDATE
    | CONDITION_CHECK
    | KEY
    | DLQ
    | CONSUME
    | FUNCTION_DLQ,
    # Due plans (due_work index), invoice and customer, one TransactWriteItems per claim; Stripe for the charge.
    "charges": LOGS | XRAY | READ_ONE | READ_MANY | QUERY | PUT | UPDATE | KEY | STRIPE_SECRET | FUNCTION_DLQ,
    # Each listed Stripe event through the webhook's path; its cursor (Get, Put) and drift (Query, Update, Delete).
    "reconcile": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | QUERY
    | PUT
    | UPDATE
    | DELETE
    | KEY
    | STRIPE_SECRET
    | FUNCTION_DLQ,
    # Counters, the snapshot and policy, the due_work index, one Put of its outbox message; failed runs to the DLQ.
    "digest": LOGS | XRAY | READ_ONE | READ_MANY | QUERY | PUT | KEY | FUNCTION_DLQ,
    # Due retention markers (due_work) and each customer's records (by_owner); the marker moved or dropped; the
    # pseudonymisation through the ledger (Puts, audit redaction Updates, the external id's Delete); the Stripe
    # secret: their Stripe customer's cards detached and the customer deleted.
    "retention": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | QUERY
    | PUT
    | UPDATE
    | DELETE
    | KEY
    | STRIPE_SECRET
    | FUNCTION_DLQ,
    # The customer an SES event names, one TransactWriteItems of Puts to mark the address; failures to its DLQ.
    "email_feedback": LOGS | XRAY | READ_ONE | READ_MANY | PUT | KEY | DLQ,
    # Sessions and pages over the table and the due_work index; of Cognito only the Users page's admin calls on
    # its own pool (its sign-in API is public). The Stripe secret: recording a payment received outside Stripe
    # expires the invoice's open Checkout Session. DLQ's actions: the Import page sends an import's chunks to the
    # imports queue.
    "console": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | QUERY
    | PUT
    | UPDATE
    | DELETE
    | KEY
    | STRIPE_SECRET
    | set(USER_MANAGEMENT_ACTIONS)
    | DLQ,
    # Bulk import: each row through the ledger (Gets, one TransactWriteItems of Puts and counter Updates), the
    # chunk's result; consuming the imports queue. No index, no Stripe, no email.
    # and an uploaded file read and deleted once checked, its chunks queued (SendMessage and the queue's URL)
    "imports": LOGS
    | XRAY
    | READ_ONE
    | READ_MANY
    | PUT
    | UPDATE
    | KEY
    | CONSUME
    | DLQ
    | {"s3:GetObject", "s3:DeleteObject"},
    # The endpoints and failed deliveries over the table; consuming its queue and fanning out onto it. No Stripe
    # secret, no email, no bus: it only reads events the bus's rule queued.
    "webhook_delivery": LOGS | XRAY | READ_ONE | QUERY | PUT | KEY | DLQ | CONSUME,
}
# The only actions AWS offers no resource-level permission for.
UNSCOPED_ACTIONS = XRAY | {"dynamodb:ListStreams"}


def statements_of(synthesized: Synthesized, name: str) -> list[dict[str, Any]]:
    role_id = synthesized.logical_id(synthesized.stack.lambdas.roles[name])
    statements: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: str | list[Any]) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_configuration_set(arn_parts: list[Any]) -> bool:
    return ":configuration-set/" in "".join(p for p in arn_parts if isinstance(p, str))


def actions_of(synthesized: Synthesized, name: str) -> set[str]:
    return {action for statement in statements_of(synthesized, name) for action in as_list(statement["Action"])}


def test_each_function_has_its_own_role_without_managed_policies(synthesized: Synthesized) -> None:
    roles = synthesized.stack.lambdas.roles
    functions = synthesized.stack.lambdas.functions

    assert len({synthesized.logical_id(role) for role in roles.values()}) == len(functions)
    for name, function in functions.items():
        assert synthesized.resource(function)["Properties"]["Role"] == {
            "Fn::GetAtt": [synthesized.logical_id(roles[name]), "Arn"]
        }
        assert "ManagedPolicyArns" not in synthesized.resource(roles[name])["Properties"]


@pytest.mark.parametrize("name", sorted(EXPECTED_ACTIONS))
def test_each_function_is_allowed_exactly_what_it_needs(synthesized: Synthesized, name: str) -> None:
    assert actions_of(synthesized, name) == EXPECTED_ACTIONS[name]


@pytest.mark.parametrize("name", ["checkout", "webhooks", "operator_api", "console", "account"])
def test_http_functions_can_neither_send_email_nor_publish_events(synthesized: Synthesized, name: str) -> None:
    actions = actions_of(synthesized, name)

    assert not {action for action in actions if action.startswith(("ses:", "events:"))}


def test_the_console_manages_users_of_its_own_pool_and_nothing_else_of_cognito(synthesized: Synthesized) -> None:
    # Cognito's sign-in API (InitiateAuth, RespondToAuthChallenge, software tokens, GlobalSignOut) is public;
    # the Users page's admin calls are allowed on the console's pool alone.
    pool_arn = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.console.user_pool), "Arn"]}
    cognito = [s for s in statements_of(synthesized, "console") if str(s["Action"]).count("cognito-idp:")]
    assert {a for s in cognito for a in as_list(s["Action"])} == set(USER_MANAGEMENT_ACTIONS)
    assert all(as_list(s["Resource"]) == [pool_arn] for s in cognito)
    assert not {a for a in actions_of(synthesized, "console") if a.startswith("cognito-idp:")} - set(
        USER_MANAGEMENT_ACTIONS
    )
    for name in sorted(EXPECTED_ACTIONS.keys() - {"console"}):
        assert not {a for a in actions_of(synthesized, name) if a.startswith("cognito-idp:")}, name


def test_the_outbox_reads_the_stripe_secret_and_nothing_else_of_secrets_manager(synthesized: Synthesized) -> None:
    # A receipt names how it was paid, read from Stripe when it is sent
    secrets = {action for action in actions_of(synthesized, "outbox") if action.startswith("secretsmanager:")}
    assert secrets == {action for action in actions_of(synthesized, "webhooks") if action.startswith("secretsmanager:")}


def test_only_actions_without_resource_level_permissions_use_a_wildcard_resource(synthesized: Synthesized) -> None:
    for name in EXPECTED_ACTIONS:
        for statement in statements_of(synthesized, name):
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS, (name, statement)


def test_outbox_sends_only_from_the_sender_identity_and_publishes_only_to_the_bus(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    statements = statements_of(synthesized, "outbox")

    # (@aws-cdk/aws-iam:minimizePolicies may merge both grants into one statement: count resources, not statements)
    sendable = [r for s in statements if "ses:SendEmail" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    identity_arn, configuration_set_arn = sorted((r["Fn::Join"][1] for r in sendable), key=_is_configuration_set)
    [publish] = [s for s in statements if "events:PutEvents" in as_list(s["Action"])]
    assert {"Ref": synthesized.logical_id(stack.email.identity)} in identity_arn
    # Sends name the configuration set, which SES authorises too: that one set, nothing wider.
    assert _is_configuration_set(configuration_set_arn)
    assert {"Ref": synthesized.logical_id(stack.email.configuration_set)} in configuration_set_arn
    assert publish["Resource"] == {"Fn::GetAtt": [synthesized.logical_id(stack.events.bus), "Arn"]}


def test_the_stripe_secret_is_readable_only_as_that_one_secret(synthesized: Synthesized) -> None:
    secret_id = synthesized.logical_id(synthesized.stack.stripe_secret.secret)
    for name in ("checkout", "webhooks", "operator_api", "charges", "reconcile", "console", "account", "retention"):
        [read] = [
            s for s in statements_of(synthesized, name) if "secretsmanager:GetSecretValue" in as_list(s["Action"])
        ]
        assert read["Resource"] == {"Ref": secret_id}


# operator_api: a customer's transactions and the Stripe events kept (by_owner); failed or flagged ones (due_work);
# the invoice, payment and customer lists (lists, and by_owner); the aging report per customer (open_balances)
INDEXES = {
    "operator_api": ("by_owner", "due_work", "open_balances", "lists"),
    "reminders": ("due_work",),
    "charges": ("due_work",),
    "reconcile": ("due_work",),
    "digest": ("due_work", "lists"),  # Stripe events to review (due_work); invoices about to be written off (lists)
    "console": ("by_owner", "due_work", "lists"),
    "account": ("by_owner", "lists"),  # a customer's invoices and payments (by_owner); an address's customers (lists)
    "retention": ("by_owner", "due_work"),  # a customer's records (by_owner); retention markers due (due_work)
}


@pytest.mark.parametrize(
    "name",
    [
        "checkout",
        "webhooks",
        "outbox",
        "operator_api",
        "reminders",
        "charges",
        "reconcile",
        "digest",
        "console",
        "account",
        "retention",
    ],
)
def test_each_index_is_queried_only_by_the_function_that_needs_it(synthesized: Synthesized, name: str) -> None:
    resources = [
        str(resource)
        for statement in statements_of(synthesized, name)
        if any(str(a).startswith("dynamodb:") for a in as_list(statement["Action"]))
        for resource in as_list(statement["Resource"])
    ]
    with_index = [r for r in resources if "/index/" in r]
    if name in INDEXES:
        assert with_index and all(any(f"/index/{index}" in r for index in INDEXES[name]) for r in with_index)
        assert all(any(f"/index/{index}" in r for r in with_index) for index in INDEXES[name])
    else:
        assert with_index == []
