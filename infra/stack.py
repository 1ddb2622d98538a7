"""PayportalStack: the money loop (API, functions, table, outbox, email, events, Stripe secret).

Each construct owns one concern; this stack wires them and decides who may do what:

| function     | table          | Stripe secret  | SES send | EventBridge put | stream + DLQ |
|--------------|----------------|----------------|----------|-----------------|--------------|
| checkout     | read/write     | GetSecretValue |          |                 |              |
| webhooks     | read/write     | GetSecretValue |          |                 |              |
| operator_api | read/write     | GetSecretValue |          |                 |              |
| outbox       | read/write     | GetSecretValue | yes      | yes             | yes          |
| reminders    | due index, Put, Update |                |          |                 | schedule DLQ |
| email_feedback | Get, Put     |                |          |                 | SNS -> DLQ   |
| charges      | due index, Put | GetSecretValue |          |                 | schedule DLQ |
| balances     | balances index |                |          |                 | schedule DLQ |
| reconcile    | read/write, due index | GetSecretValue |          |                 | schedule DLQ |
| digest       | read, due + lists index, Put |    |          |                 | schedule DLQ |
| retention    | read/write, due + by_owner index | GetSecretValue |  |             | schedule DLQ |
| imports      | Get, Put, Update |              |          |                 | imports queue + DLQ |
| webhook_delivery | Get, Query, Put |            |          |                 | queue + DLQ (deliveries) |

operator_api and console also send to the imports queue (POST /v1/imports, the console's Import page), as does
the imports worker (an uploaded file's chunks); operator_api signs upload forms for, and reads, the import uploads
bucket; the imports worker reads and deletes its files.
"""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import CfnOutput, Stack, Tags, aws_iam, aws_lambda
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.components.access_logs import AccessLogs
from infra.components.api import PayportalApi
from infra.components.audit_trail import AuditTrail
from infra.components.console import ConsoleSignIn
from infra.components.email import Email
from infra.components.events import DomainEvents
from infra.components.firewall import Firewall
from infra.components.imports import ImportQueue
from infra.components.lambdas import Lambdas
from infra.components.monitoring import Monitoring, Watched
from infra.components.outbox import Outbox
from infra.components.scheduling import Scheduling
from infra.components.secrets import StripeSecret
from infra.components.storage import Storage
from infra.components.webhooks import OutboundWebhooks
from infra.config import StageConfig
from infra.nag import Exemption, exempt, inline_policy
from shared import schema
from shared.routes import SCHEDULED_FUNCTIONS, STREAM_FUNCTIONS

STORAGE_ID: Final = "Storage"
SECRETS_ID: Final = "Secrets"
EVENTS_ID: Final = "Events"
EMAIL_ID: Final = "Email"
LAMBDAS_ID: Final = "Functions"
API_ID: Final = "Api"
FIREWALL_ID: Final = "Firewall"
OUTBOX_ID: Final = "Outbox"
SCHEDULING_ID: Final = "Scheduling"
MONITORING_ID: Final = "Monitoring"
WEBHOOKS_ID: Final = "Webhooks"
WEBHOOK_DELIVERY_FUNCTION: Final = "webhook_delivery"
CONSOLE_ID: Final = "Console"
IMPORTS_ID: Final = "Imports"
ACCESS_LOGS_ID: Final = "AccessLogs"
AUDIT_TRAIL_ID: Final = "AuditTrail"
OUTPUT_CONSOLE_USER_POOL_ID: Final = "ConsoleUserPoolId"

OUTPUT_API_URL: Final = "ApiUrl"
OUTPUT_TABLE_NAME: Final = "TableName"
OUTPUT_EVENT_BUS_NAME: Final = "EventBusName"
OUTPUT_STRIPE_SECRET_NAME: Final = "StripeSecretName"
OUTPUT_OUTBOX_DLQ_URL: Final = "OutboxDlqUrl"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
OUTPUT_DASHBOARD_NAME: Final = "DashboardName"

OUTBOX_FUNCTION: Final = "outbox"
EMAIL_FEEDBACK_FUNCTION: Final = "email_feedback"
CONSOLE_FUNCTION: Final = "console"
IMPORTS_FUNCTION: Final = "imports"
OPERATOR_API_FUNCTION: Final = "operator_api"
# Functions that call Stripe and so read its secret (the outbox: how a receipt's payment was made).
# console: recording a payment received outside Stripe closes the invoice's open Checkout Session at Stripe.
# account: autopay turned on from the account opens Checkout in setup mode.
STRIPE_FUNCTIONS: Final = (
    "checkout", "webhooks", "operator_api", "charges", "outbox", "reconcile", "console", "account", "retention",
)  # fmt: skip

TAGS: Final = {"project": "payportal"}

NO_VPC_REASON: Final = (
    "No cardholder data reaches this function: cards are entered on Stripe's hosted Checkout (PCI DSS SAQ A, "
    "docs/security.md), so there is no cardholder-data environment to segment. It talks only to AWS service "
    "APIs and to Stripe, over TLS and authorised by IAM or the Stripe key; a VPC would add NAT gateways and "
    "endpoints for the same traffic, and another failure point, without keeping any data out of reach."
)


def stack_name_for(stage: str) -> str:
    return f"payportal-{stage}"


def function_output_for(name: str) -> str:
    """`charges` -> `ChargesFunctionName`: the stack output naming a function's deployed name."""
    return "".join(part.capitalize() for part in name.split("_")) + "FunctionName"


# Exactly the table actions each function's code uses (TransactWriteItems is authorised per Put inside it).
# Every function that commits may read back one item it put (BatchGetItem), to recognise its own committed
# transaction when a retry after a lost reply meets its guards (shared/adapters/dynamodb/ledger.py).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "checkout": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ),
    # The customer's account: its code challenges, sessions and rate counters (GetItem; TransactWriteItems of a
    # Put and a Delete at sign-in, of a Put and the email's outbox Put at each code; UpdateItem for wrong tries,
    # counters and idle time; DeleteItem at sign-out); the statement's reads (customers by BatchGetItem, their
    # invoices and payments from by_owner, the address from the lists index); a pay link or autopay turned off
    # through the ledger (Puts, BatchGetItem to recognise its own commit).
    "account": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    # UpdateItem: the counters (Change.tallies) a payment, refund or dispute moves, in its transaction (and
    # the reminder's, for a payment through its link: shared/services/reminder_report.py). Every read is a
    # BatchGetItem (a combined payment, its kept event, a PaymentIntent's lookup included).
    "webhooks": ("dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    # DeleteItem: Powertools idempotency removes its in-progress record when a request fails.
    "operator_api": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    "outbox": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    # The policy (one GetItem per run), the due_work index, and one TransactWriteItems per reminder: Puts
    # plus a ConditionCheck that the customer is neither on hold nor unreachable; GetItem of that customer
    # when the check fails; UpdateItem: the counters a late fee or a write-off moves, and the reminder's
    # "sent" counter, in that transaction. Query: a customer's reminders waiting for its one email of the run
    # (its own partition), and the sweep of those a dead run left (the due_work index).
    "reminders": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    ),
    # Due plans from the due_work index, the invoice and customer (BatchGetItem), one TransactWriteItems of
    # Puts to claim each attempt and one to note its PaymentIntent.
    # GetItem: the customer and the dunning policy when a recurring charge's period is invoiced; UpdateItem:
    # the counters that invoice moves, in its transaction.
    "charges": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ),
    # Read the customer named by the SES event, mark the address (one TransactWriteItems of Puts).
    "email_feedback": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"),
    # Sums the open_balances index; keeps the day's aging snapshot: Query of the counters' partitions, GetItem
    # and PutItem of the snapshot item (services.reports.keep_daily_snapshots).
    "balances": ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"),
    # Each listed event through the webhook's path (BatchGetItem, one TransactWriteItems of Puts); its own
    # cursor (GetItem, a conditional PutItem) and drift (Query of its one partition, UpdateItem, DeleteItem);
    # overdue pending payments, open sessions past their expiry and charges in flight from the due_work index
    # (Query); a session Stripe expired closed (a Put of its open-checkout item, with its audit entry).
    "reconcile": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    # The retention job: due markers (due_work index) and each customer's records (by_owner index); the marker moved
    # or dropped (a conditional PutItem, DeleteItem); the pseudonymisation (pseudonymise_customer): the customer,
    # invoices and recurring charges read (GetItem, by_owner), each redacted through the ledger (TransactWriteItems
    # of Puts, BatchGetItem to recognise its own commit), audit entries redacted (Query of their partitions,
    # UpdateItem), the old external id released (DeleteItem).
    "retention": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    # The morning digest: counters (Query of their partitions, BatchGetItem of a day's), yesterday's snapshot and
    # the policy (GetItem), Stripe events to review (due_work index), the owed list (lists index: invoices about
    # to be written off), one Put of its outbox message.
    "digest": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem"),
    # Its sessions (GetItem; a TransactWriteItems of a Put and a Delete at each sign-in step; UpdateItem for
    # the idle time; DeleteItem at sign-out); the pages' reads (invoice, payments and audit partitions, the
    # due_work index for Today); a hold through the ledger (Puts, BatchGetItem to recognise its own commit).
    "console": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    # Bulk import: a chunk's rows and its job (GetItem), each row's customer by external id and invoice by number
    # (GetItem), the dunning policy (GetItem); each customer and invoice created through the ledger (one
    # TransactWriteItems of Puts and the counters' Updates; BatchGetItem to recognise its own commit); the
    # chunk's result with the job's counts (a Put and an Update in one transaction).
    "imports": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    # The endpoints (one Query of their partition, GetItem of one); a delivery that failed for good and its
    # endpoint's count, one TransactWriteItems of Puts (and the audit entry when it disables the endpoint).
    "webhook_delivery": ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"),
}
# Indexes a function queries (a customer's transactions, the Stripe events kept; failed or flagged ones; the
# invoice, payment and customer lists).
INDEX_READERS: dict[str, tuple[str, ...]] = {
    "operator_api": (schema.BY_OWNER_INDEX, schema.DUE_WORK_INDEX, schema.OPEN_BALANCES_INDEX, schema.LISTS_INDEX),
    # Today: reminders due, Stripe events failed or flagged (due_work); overdue, promised, disputed, by number (lists)
    "console": (schema.BY_OWNER_INDEX, schema.DUE_WORK_INDEX, schema.LISTS_INDEX),  # by_owner: the Customer page
    "account": (schema.BY_OWNER_INDEX, schema.LISTS_INDEX),  # a customer's invoices and payments; an address
    "reminders": (schema.DUE_WORK_INDEX,),
    "charges": (schema.DUE_WORK_INDEX,),
    "balances": (schema.OPEN_BALANCES_INDEX,),
    "reconcile": (schema.DUE_WORK_INDEX,),  # pending payments, open sessions, charges in flight, when overdue
    "digest": (schema.DUE_WORK_INDEX, schema.LISTS_INDEX),  # Stripe events to review; the owed list (write-offs)
    "retention": (schema.DUE_WORK_INDEX, schema.BY_OWNER_INDEX),  # markers due; a customer's records
}
# Functions that read an index and never the table itself.
INDEX_ONLY: Final = frozenset[str]()


class PayportalStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        # A production stack cannot be deleted (`cdk destroy` fails) until someone deliberately turns this
        # off; its table and key are RETAIN in every stage besides.
        # Stack tags are given explicitly (@aws-cdk/core:explicitStackTags): CloudFormation puts them on every
        # resource it creates, those CDK cannot tag in the template included; Tags.of tags the template too.
        tags = {**TAGS, "stage": config.stage}
        super().__init__(scope, construct_id, termination_protection=config.is_prod, tags=tags, **kwargs)
        self.config = config
        for key, value in tags.items():
            Tags.of(self).add(key, value)

        self.storage = Storage(self, STORAGE_ID, config=config)
        self.stripe_secret = StripeSecret(self, SECRETS_ID, config=config, key=self.storage.key)
        self.events = DomainEvents(self, EVENTS_ID, config=config, key=self.storage.key)
        self.email = Email(self, EMAIL_ID, config=config, key=self.storage.key)
        self.lambdas = Lambdas(
            self,
            LAMBDAS_ID,
            config=config,
            table_name=self.storage.table.table_name,
            event_bus_name=self.events.bus.event_bus_name,
            stripe_secret_id=self.stripe_secret.secret.secret_arn,
            ses_configuration_set=self.email.configuration_set_name,
            log_key=self.storage.key,
            environment_key=self.storage.key,
        )
        self.storage.allow_log_encryption()
        self.api = PayportalApi(self, API_ID, config=config, functions=self.lambdas.functions, log_key=self.storage.key)
        self.firewall = Firewall(
            self,
            FIREWALL_ID,
            config=config,
            stage_arn=Firewall.stage_arn(
                self, self.api.rest_api.rest_api_id, self.api.rest_api.deployment_stage.stage_name
            ),
            log_key=self.storage.key,
        )
        self.firewall.association.node.add_dependency(self.api.rest_api.deployment_stage)
        if not config.public_base_url:
            self.lambdas.set_public_base_url(self.api.invoke_url)
        self.console = ConsoleSignIn(
            self,
            CONSOLE_ID,
            config=config,
            console_url=f"{config.public_base_url or self.api.invoke_url}/console",
            function=self.lambdas.functions[CONSOLE_FUNCTION],
        )
        self.outbox = Outbox(
            self,
            OUTBOX_ID,
            config=config,
            table=self.storage.table,
            key=self.storage.key,
            function=self.lambdas.functions[OUTBOX_FUNCTION],
        )
        self.scheduling = Scheduling(
            self, SCHEDULING_ID, config=config, key=self.storage.key, functions=self.lambdas.functions
        )
        self.access_logs = AccessLogs(self, ACCESS_LOGS_ID)
        self.audit_trail = (
            AuditTrail(
                self, AUDIT_TRAIL_ID, config=config, access_logs=self.access_logs.bucket, table=self.storage.table
            )
            if config.audit_trail
            else None
        )
        self.imports = ImportQueue(
            self,
            IMPORTS_ID,
            config=config,
            key=self.storage.key,
            worker=self.lambdas.functions[IMPORTS_FUNCTION],
            senders=(self.lambdas.functions[OPERATOR_API_FUNCTION], self.lambdas.functions[CONSOLE_FUNCTION]),
            uploader=self.lambdas.functions[OPERATOR_API_FUNCTION],
            access_logs=self.access_logs.bucket,
        )
        self.webhooks = OutboundWebhooks(
            self,
            WEBHOOKS_ID,
            config=config,
            key=self.storage.key,
            bus=self.events.bus,
            function=self.lambdas.functions[WEBHOOK_DELIVERY_FUNCTION],
            replayers=(self.lambdas.functions["operator_api"],),
        )
        self.monitoring = Monitoring(
            self,
            MONITORING_ID,
            config=config,
            key=self.storage.key,
            watched=Watched(
                api_name=f"payportal-{config.stage}",
                stage_name=self.api.stage_name,
                functions=self.lambdas.functions,
                dead_letter_queues={
                    "Outbox": self.outbox.dlq,
                    "Schedules": self.scheduling.dlq,
                    "EmailFeedback": self.email.feedback_dlq,
                    "Imports": self.imports.dlq,
                    "WebhookDeliveries": self.webhooks.dlq,
                    **{
                        "".join(p.capitalize() for p in name.split("_")) + "Continuations": queue
                        for name, queue in self.scheduling.continuation_dlqs.items()
                    },
                },
                scheduled=tuple(SCHEDULED_FUNCTIONS),
            ),
        )
        self._grant_access()
        self._suppress_findings()
        self._suppress_dead_letter_findings()
        self._build_outputs()

    def _grant_access(self) -> None:
        functions = self.lambdas.functions
        table = self.storage.table
        for name, function in functions.items():
            resources = [] if name in INDEX_ONLY else [table.table_arn]
            resources += [f"{table.table_arn}/index/{index}" for index in INDEX_READERS.get(name, ())]
            function.add_to_role_policy(aws_iam.PolicyStatement(actions=list(TABLE_ACTIONS[name]), resources=resources))
            # The table key, which the Stripe secret shares; DescribeKey as in CDK's own table grants.
            self.storage.key.grant_encrypt_decrypt(function)
            self.storage.key.grant(function, "kms:DescribeKey")
        self.stripe_secret.grant_read([functions[name] for name in STRIPE_FUNCTIONS])
        self.email.grant_send(functions[OUTBOX_FUNCTION])
        self.email.deliver_feedback_to(functions[EMAIL_FEEDBACK_FUNCTION])
        self.events.grant_publish(functions[OUTBOX_FUNCTION])
        self.console.grant_user_management(functions[CONSOLE_FUNCTION])

    def _suppress_findings(self) -> None:
        table_arn = f"<{self.get_logical_id(self.storage.table.node.default_child)}.Arn>"  # type: ignore[arg-type]
        for name, function in self.lambdas.functions.items():
            self._suppress_role_wildcards(name, self.lambdas.roles[name], table_arn)
            self._suppress_function_findings(function)

    def _suppress_role_wildcards(self, name: str, role: aws_iam.Role, table_arn: str) -> None:
        # Every finding is named with applies_to, so any new wildcard still fails cdk-nag.
        # apply_to_children: the statements live in the role's generated DefaultPolicy.
        unscoped = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions."
        if name in STREAM_FUNCTIONS:
            unscoped += " Nor does dynamodb:ListStreams, which the stream event source needs."
        suppressions = [
            NagPackSuppression(id="AwsSolutions-IAM5", reason=unscoped, applies_to=["Resource::*"]),
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="CDK's key grants for the one table key: GenerateDataKey*/ReEncrypt* are the envelope "
                "encryption actions DynamoDB, SQS and Secrets Manager use with a customer-managed key.",
                applies_to=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
            ),
            inline_policy(),
        ]
        NagSuppressions.add_resource_suppressions(role, suppressions, apply_to_children=True)

    def _suppress_function_findings(self, function: aws_lambda.Function) -> None:
        runtime = (
            "Pinned to Python 3.13: the dependency layer is built for cp313 wheels "
            "(LAYER_PYTHON_VERSION in infra/bundling.py); runtime and layer move together."
        )
        exempt(
            function,
            Exemption(runtime, nag=("AwsSolutions-L1", "Serverless-LambdaLatestVersion")),
            Exemption(NO_VPC_REASON, nag=("PCI.DSS.321-LambdaInsideVPC",), checkov=("CKV_AWS_117",)),
        )

    def _suppress_dead_letter_findings(self) -> None:
        """A function-level DLQ keeps what an asynchronous invocation left after Lambda's own retries. The
        scheduled functions are invoked so (by EventBridge Scheduler) and have one (Scheduling); the others are
        not, and each has the failure path its invocation needs."""
        why = {
            "checkout": "invoked synchronously by API Gateway: a failure is the HTTP response, nothing is queued",
            "webhooks": "invoked synchronously by API Gateway: a failure is a 5xx, and Stripe redelivers",
            "operator_api": "invoked synchronously by API Gateway: a failure is the HTTP response",
            "console": "invoked synchronously by API Gateway: a failure is the page it answers",
            "account": "invoked synchronously by API Gateway: a failure is the page it answers",
            "outbox": "invoked by the DynamoDB stream event source, whose on-failure destination is the outbox DLQ",
            "imports": "invoked by the imports queue's SQS event source, whose redrive policy moves failing chunks "
            "to the imports DLQ",
            "email_feedback": "invoked asynchronously by SNS: its event invoke config sends failures to the "
            "feedback DLQ (an on-failure destination, which supersedes a function DLQ)",
            "webhook_delivery": "invoked by the SQS event source of the webhook deliveries queue, whose redrive "
            "policy is its DLQ",
        }
        for name, function in self.lambdas.functions.items():
            if name in SCHEDULED_FUNCTIONS:
                continue  # a real DLQ: Scheduling gives each scheduled function the schedule DLQ
            exempt(
                function,
                Exemption(
                    why[name][0].upper() + why[name][1:] + ".", nag=("Serverless-LambdaDLQ",), checkov=("CKV_AWS_116",)
                ),
            )

    def _build_outputs(self) -> None:
        CfnOutput(self, OUTPUT_API_URL, value=self.api.url, description="The API's base URL (custom domain if set)")
        CfnOutput(self, OUTPUT_TABLE_NAME, value=self.storage.table.table_name)
        CfnOutput(self, OUTPUT_EVENT_BUS_NAME, value=self.events.bus.event_bus_name)
        CfnOutput(
            self,
            OUTPUT_CONSOLE_USER_POOL_ID,
            value=self.console.user_pool.user_pool_id,
            description="The console's Cognito user pool: invite staff here (docs/operations.md)",
        )
        CfnOutput(
            self,
            OUTPUT_STRIPE_SECRET_NAME,
            value=self.stripe_secret.secret.secret_name,
            description='Put {"api_key": "...", "webhook_secret": "..."} here after the first deploy',
        )
        CfnOutput(self, OUTPUT_OUTBOX_DLQ_URL, value=self.outbox.dlq.queue_url)
        CfnOutput(self, OUTPUT_ALARM_TOPIC_ARN, value=self.monitoring.topic.topic_arn)
        CfnOutput(self, OUTPUT_DASHBOARD_NAME, value=self.monitoring.dashboard.dashboard_name)
        # For the operator's runbooks (docs/operations.md): re-run a job, redrive the outbox.
        for name in (OUTBOX_FUNCTION, *SCHEDULED_FUNCTIONS):
            CfnOutput(self, function_output_for(name), value=self.lambdas.functions[name].function_name)
