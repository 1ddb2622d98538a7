"""The table's key schema and indexes: the one source CDK, the local stack and the tests build from.

One table, generic keys, entity prefixes. Items and their keys:

| item            | pk                         | sk                    | gsi1 (by_owner)                       |
|-----------------|----------------------------|-----------------------|---------------------------------------|
| customer        | CUSTOMER#{customer_id}     | CUSTOMER              | CUSTOMERS / {created}#{customer_id}   |
| invoice         | INVOICE#{invoice_id}       | INVOICE               | CUSTOMER#{cid} / INVOICE#{created}#id |
| invoice number  | INVOICENUMBER#{number}     | INVOICENUMBER         |                                       |
| checkout        | INVOICE#{invoice_id}       | CHECKOUT#{ref}        |                                       |
| payment         | INVOICE#{invoice_id}       | PAYMENT#{pi_id}       | CUSTOMER#{cid} / PAYMENT#{created}#id |
| audit           | INVOICE#{invoice_id}       | AUDIT#{at}#{id}       |                                       |
| pay link        | PAYLINK#{sha256(token)}    | PAYLINK               |                                       |
| reminder opened | INVOICE#{invoice_id}       | REMINDEROPENED#{step}#{sent_at} |                             |
| stripe event    | EVENT#{event_id}           | EVENT                 | STRIPE_EVENTS / {received}#{event_id} |
| outbox message  | OUTBOX#{message_id}        | OUTBOX                |                                       |
| idempotency     | IDEMPOTENCY#{function}     | {hash}                |                                       |
| plan            | INVOICE#{invoice_id}       | PLAN#{plan_id}        |                                       |
| dispute         | INVOICE#{invoice_id}       | DISPUTE#{dispute_id}  |                                       |
| pi lookup       | PAYMENTINTENT#{pi_id}      | PAYMENTINTENT         |                                       |
| recurring       | RECURRING#{id}             | RECURRING             | CUSTOMER#{cid} / RECURRING#{created}#id |
| reconcile cursor| RECONCILE                  | CURSOR                |                                       |
| drift           | RECONCILE                  | DRIFT#{kind}#{id}     |                                       |
| counter (tally) | TALLY#{scope}              | {bucket}              |                                       |
| snapshot        | SNAPSHOT#{kind}            | {YYYY-MM-DD}          |                                       |
| console session | CONSOLESESSION#{sha256(id)}| CONSOLESESSION        |                                       |
| email sent      | CUSTOMER#{customer_id}     | EMAILSENT#{at}#{msg}  |                                       |
| export link     | EXPORTLINK#{sha256(token)} | EXPORTLINK            |                                       |
| incident notice | INCIDENT#{incident_id}     | NOTICE#{customer_id}  |                                       |
| retention mark  | CUSTOMER#{customer_id}     | RETAIN                |                                       |
| retention sweep | INVOICE#{invoice_id}       | RETAINSWEEP           |                                       |

Stripe events waiting on an operator (failed, flagged) also carry gsi2 keys `STRIPE_EVENT#{outcome}` /
`{received}#{event_id}`.

`next_action_at` items (scheduled work) also carry gsi2 keys: `{kind}#{shard}` / `{next_action_at}#{id}`,
kind `DUE` for invoices' reminders, `CHARGE` for plans' charges, `RECUR` for recurring charges' periods,
`PENDINGPAY` for pending payments (bank debits) reconciliation looks at again when they take long, and two
more reconciliation looks at once their time has passed with no event recorded: `OPENCHECKOUT` for an
invoice's open Checkout Session (its `OPEN_CHECKOUT` item, at the session's expiry plus a grace) and
`CHARGEOUT` for a plan whose installment charge was created and has no outcome (instead of `CHARGE`: the
charge run has nothing to do for it until its webhook lands). A customer's retention marker (`CUSTOMER#{id}` /
`RETAIN`, put in the transaction that makes one of their invoices final) sits in `RETAIN#{shard}` /
`{retain_until}#{customer_id}`: the retention job reads the markers whose time has passed. An invoice made final
(or reopened) also gets a sweep item (`INVOICE#{id}` / `RETAINSWEEP`, in `RETAINSWEEP#{shard}`): the job then
sets (or clears) the TTL on what earlier changes put in its partition.

Invoices still being collected (open or partially paid, something owed) also carry gsi3 keys
`OPEN#{shard}` / `{currency}#{id}` and `amount_open`: the open_balances index projects only those (and the
customer id and due date, for the aging report per customer), so the open balance is read without reading
whole invoices, let alone the table.

Counters (shared/services/aggregates.py) are moved by ADD in the transaction of the change they count; daily
snapshots (the aging report's history) expire by TTL.

The operator API's lists (GET /v1/invoices, /v1/payments, /v1/customers) read the `lists` index (gsi4, every
attribute projected, so a row is one item read) and by_owner; each partition answers one question in the order
it is asked, so a page reads about one item per row (shared/services/lists.py plans which):

| partition (gsi4pk or gsi1pk)     | sort key                      | item                                        |
|----------------------------------|-------------------------------|---------------------------------------------|
| INVOICES#{status}#{currency}     | {due_date}#{invoice_id}       | every invoice                               |
| OWED#{currency}                  | {due_date}#{invoice_id}       | INVOICE#{id} / LIST#OWED: open or partially |
|                                  |                               | paid with something owed (overdue lists)    |
| OWED#*                           | {due_date}#{invoice_id}       | INVOICE#{id} / LIST#OWEDANY: the same, in   |
|                                  |                               | every currency                              |
| HELD#{currency}, PROMISED#{cur}, | {due_date}#{invoice_id}       | INVOICE#{id} / LIST#HELD, LIST#PROMISED,    |
| DISPUTED#{currency}              |                               | LIST#DISPUTED: while the flag is set        |
| PAYMENTS#{yyyy-mm}               | {received}#{payment key}      | every payment (received = created_at, UTC)  |
| PAYMENTS#{state}#{yyyy-mm}       | {received}#{payment key}      | INVOICE#{id} / LIST#PAYMENT#{key}           |
| PAYMENTS#{currency}#{yyyy-mm}    | {received}#{payment key}      | INVOICE#{id} / LIST#PAYMENTCURRENCY#{key}   |
| PAYMENTS#{method}#{yyyy-mm}      | {received}#{payment key}      | INVOICE#{id} / LIST#PAYMENTMETHOD#{key}     |
| CUSTOMERSEARCH                   | {folded name}#{customer_id}   | every customer (its name)                   |
| CUSTOMERSEARCH                   | {folded email}#{customer_id}  | CUSTOMER#{id} / LIST#EMAIL (its email)      |
| by_owner: CUSTOMERS              | {created_at}#{customer_id}    | every customer (the list of all, newest)    |

Audit entries about a customer, an invoice or a recurring charge (and the read audit, under the customer) also
carry gsi4 keys `AUDITAT#{yyyy-mm-dd}#{shard}` / `{at}#{entry id}`: the audit trail by time, which an incident's
reach is read from (`bin/payportal incident affected`) without a scan; a day's entries spread over
AUDIT_TIME_SHARDS partitions so no bulk import makes one hot.

The `LIST#...` items are copies of their record's attributes (no other index keys), put in the same
transaction as the record; one whose flag is off is put with no index keys, which takes it out of its
partition.
"""

from __future__ import annotations

import hashlib
from typing import Final

PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
TTL_ATTRIBUTE: Final = "ttl"

BY_OWNER_INDEX: Final = "by_owner"
BY_OWNER_PK: Final = "gsi1pk"
BY_OWNER_SK: Final = "gsi1sk"

DUE_WORK_INDEX: Final = "due_work"
DUE_WORK_PK: Final = "gsi2pk"
DUE_WORK_SK: Final = "gsi2sk"
DUE_WORK_SHARDS: Final = 8


OPEN_BALANCES_INDEX: Final = "open_balances"
OPEN_BALANCES_PK: Final = "gsi3pk"
OPEN_BALANCES_SK: Final = "gsi3sk"
OPEN_AMOUNT: Final = "amount_open"
OPEN_BALANCES_SHARDS: Final = 8
# What the open_balances index holds of an invoice: enough for the open balance per currency and for the aging
# report per customer (reports.py), nothing more.
OPEN_BALANCES_PROJECTION: Final = ("currency", OPEN_AMOUNT, "customer_id", "due_date")


LISTS_INDEX: Final = "lists"
LISTS_PK: Final = "gsi4pk"
LISTS_SK: Final = "gsi4sk"

# The by_owner partition of every customer, newest first (the customer list with no filter).
ALL_CUSTOMERS_PARTITION: Final = "CUSTOMERS"
CUSTOMER_SEARCH_PARTITION: Final = "CUSTOMERSEARCH"


def invoice_status_partition(status: str, currency: str) -> str:
    return f"INVOICES#{status}#{currency}"


EVERY_CURRENCY: Final = "*"  # the owed list across currencies (not an ISO code: "ALL" is the lek's)


def invoice_listing_partition(listing: str, currency: str) -> str:
    """OWED, HELD, PROMISED or DISPUTED invoices of one currency (OWED also of EVERY_CURRENCY)."""
    return f"{listing}#{currency}"


def payments_partition(month: str, subset: str | None = None) -> str:
    """Payments received in one month (yyyy-mm): every one, or those of one state, currency or method (the
    three never share a name: states and methods are lower case and distinct, currencies upper case)."""
    return f"PAYMENTS#{month}" if subset is None else f"PAYMENTS#{subset}#{month}"


def returns_partition(month: str) -> str:
    """Money given back in one month (yyyy-mm, UTC): refunds by when they were booked, offline payments by
    when they were reversed (the accounting export's withdrawals)."""
    return f"RETURNS#{month}"


def due_order(due_date: str, entity_id: str) -> str:
    return f"{due_date}#{entity_id}"


def lists_keys(partition: str, sort: str) -> dict[str, str]:
    return {LISTS_PK: partition, LISTS_SK: sort}


AUDIT_TIME_SHARDS: Final = 4


def audit_time_partition(day: str, shard: int) -> str:
    """One shard of one UTC day (yyyy-mm-dd) of the audit trail by time (lists index)."""
    return f"AUDITAT#{day}#{shard}"


def audit_time_keys(at: str, entry_id: str) -> dict[str, str]:
    """The lists-index keys of an audit entry written at `at` (fixed-width UTC timestamp)."""
    return lists_keys(audit_time_partition(at[:10], shard_of(entry_id, AUDIT_TIME_SHARDS)), f"{at}#{entry_id}")


# Kinds of scheduled work, each with its own index partitions so one job never reads the other's items.
REMINDER_WORK: Final = "DUE"  # invoices with a reminder to consider (functions/reminders)
CHARGE_WORK: Final = "CHARGE"  # installment plans with a charge to make (functions/charges)
RECURRING_WORK: Final = "RECUR"  # recurring charges with a period to invoice (functions/charges)
PENDING_PAYMENT_WORK: Final = "PENDINGPAY"  # bank debits to look at again at Stripe (functions/reconcile)
OPEN_CHECKOUT_WORK: Final = "OPENCHECKOUT"  # Checkout Sessions open past their expiry (functions/reconcile)
REMINDER_EMAIL_WORK: Final = "REMINDEREMAIL"  # reminders sent whose run died before emailing them (functions/reminders)
CHARGE_OUTCOME_WORK: Final = "CHARGEOUT"  # installment charges created, no outcome yet (functions/reconcile)
RETENTION_WORK: Final = "RETAIN"  # customers' retain-until, the retention job acts on (functions/retention)
RETENTION_SWEEP_WORK: Final = "RETAINSWEEP"  # invoice partitions whose TTLs to set or clear (functions/retention)


# Kept Stripe events: all of them in one by_owner partition, newest first by when they were received (a
# partition takes 1,000 writes a second: far beyond Stripe's webhook rate for one account); those waiting on
# an operator (failed, flagged) also in a due_work partition per outcome, which holds nothing else.
STRIPE_EVENTS_PARTITION: Final = "STRIPE_EVENTS"
STRIPE_EVENT_REVIEW: Final = "STRIPE_EVENT"


def stripe_events_to_review(outcome: str) -> str:
    """The due_work partition of kept Stripe events with this outcome (failed, flagged)."""
    return f"{STRIPE_EVENT_REVIEW}#{outcome}"


def due_work_partition(kind: str, shard: int) -> str:
    """One shard of one kind of scheduled work in the due_work index."""
    return f"{kind}#{shard}"


def due_work_keys(entity_id: str, next_action_at: str, kind: str = REMINDER_WORK) -> dict[str, str]:
    """Sparse-index keys of an item with scheduled work: spread over shards so no partition is hot,
    sorted by when the work is due (`next_action_at` as a fixed-width UTC timestamp)."""
    partition = due_work_partition(kind, shard_of(entity_id, DUE_WORK_SHARDS))
    return {DUE_WORK_PK: partition, DUE_WORK_SK: f"{next_action_at}#{entity_id}"}


def open_balances_partition(shard: int) -> str:
    """One shard of the open_balances index."""
    return f"OPEN#{shard}"


def open_balance_keys(invoice_id: str, currency: str) -> dict[str, str]:
    """Sparse-index keys of an invoice with something still to collect."""
    shard = shard_of(invoice_id, OPEN_BALANCES_SHARDS)
    return {OPEN_BALANCES_PK: open_balances_partition(shard), OPEN_BALANCES_SK: f"{currency}#{invoice_id}"}


def shard_of(entity_id: str, shards: int) -> int:
    return int(hashlib.sha256(entity_id.encode()).hexdigest()[:8], 16) % shards


# (index name, partition key, sort key, projected attributes: None for all of them).
GLOBAL_SECONDARY_INDEXES: Final[tuple[tuple[str, str, str, tuple[str, ...] | None], ...]] = (
    (BY_OWNER_INDEX, BY_OWNER_PK, BY_OWNER_SK, None),
    (DUE_WORK_INDEX, DUE_WORK_PK, DUE_WORK_SK, None),
    (OPEN_BALANCES_INDEX, OPEN_BALANCES_PK, OPEN_BALANCES_SK, OPEN_BALANCES_PROJECTION),
    (LISTS_INDEX, LISTS_PK, LISTS_SK, None),
)

# Outbox items: their stream INSERT records, and only those, reach functions/outbox (CDK's event source
# filter and the local stack's poller both use this prefix).
OUTBOX_PREFIX: Final = "OUTBOX#"

# Every key attribute is a string.
KEY_ATTRIBUTES: Final = (
    PARTITION_KEY, SORT_KEY, BY_OWNER_PK, BY_OWNER_SK, DUE_WORK_PK, DUE_WORK_SK, OPEN_BALANCES_PK, OPEN_BALANCES_SK,
    LISTS_PK, LISTS_SK,
)  # fmt: skip


def create_table_kwargs(table_name: str) -> dict[str, object]:
    """Arguments for boto3 `create_table`, used by the local stack and the tests."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in KEY_ATTRIBUTES],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"}
                if projected is None
                else {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(projected)},
            }
            for index, pk, sk, projected in GLOBAL_SECONDARY_INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
