"""Contains all the data models used in inputs/outputs"""

from .aging_line_out import AgingLineOut
from .aging_report_format import AgingReportFormat
from .aging_report_out import AgingReportOut
from .audit_entry_out import AuditEntryOut
from .audit_entry_out_details import AuditEntryOutDetails
from .audit_page import AuditPage
from .caused_by import CausedBy
from .caused_by_kind import CausedByKind
from .checkout_session_out import CheckoutSessionOut
from .collections_figures import CollectionsFigures
from .collections_line_out import CollectionsLineOut
from .collections_line_out_inputs import CollectionsLineOutInputs
from .collections_report_format import CollectionsReportFormat
from .collections_report_out import CollectionsReportOut
from .created_invoice import CreatedInvoice
from .created_invoice_status import CreatedInvoiceStatus
from .credit_note_issued_out import CreditNoteIssuedOut
from .credit_note_out import CreditNoteOut
from .customer_aging_out import CustomerAgingOut
from .customer_changes import CustomerChanges
from .customer_erasure import CustomerErasure
from .customer_erasure_open_invoices import CustomerErasureOpenInvoices
from .customer_export import CustomerExport
from .customer_export_customer import CustomerExportCustomer
from .customer_out import CustomerOut
from .customers_page import CustomersPage
from .delivery_retry_out import DeliveryRetryOut
from .dunning_policy_model import DunningPolicyModel
from .dunning_step_model import DunningStepModel
from .dunning_step_model_template import DunningStepModelTemplate
from .email_undeliverable_out import EmailUndeliverableOut
from .email_undeliverable_out_reason import EmailUndeliverableOutReason
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .export_customer_format import ExportCustomerFormat
from .export_payments_format import ExportPaymentsFormat
from .exported_audit_entry import ExportedAuditEntry
from .exported_audit_entry_details import ExportedAuditEntryDetails
from .exported_email import ExportedEmail
from .exported_invoice import ExportedInvoice
from .exported_invoice_checkout_attempts_item import ExportedInvoiceCheckoutAttemptsItem
from .exported_invoice_disputes_item import ExportedInvoiceDisputesItem
from .exported_invoice_payments_item import ExportedInvoicePaymentsItem
from .exported_invoice_plans_item import ExportedInvoicePlansItem
from .exported_invoice_reminders_opened_item import ExportedInvoiceRemindersOpenedItem
from .exported_recurring_charge import ExportedRecurringCharge
from .failed_deliveries_page import FailedDeliveriesPage
from .failed_delivery_out import FailedDeliveryOut
from .fee_out import FeeOut
from .field_problem import FieldProblem
from .gateway_error import GatewayError
from .hold_out import HoldOut
from .import_out import ImportOut
from .import_out_format import ImportOutFormat
from .import_out_status import ImportOutStatus
from .installment_out import InstallmentOut
from .installment_out_status import InstallmentOutStatus
from .invoice_changes import InvoiceChanges
from .invoice_out import InvoiceOut
from .invoice_out_status import InvoiceOutStatus
from .invoice_row_out import InvoiceRowOut
from .invoice_row_out_status import InvoiceRowOutStatus
from .invoices_page import InvoicesPage
from .late_fee_line_out import LateFeeLineOut
from .late_fee_model import LateFeeModel
from .list_customers_format import ListCustomersFormat
from .list_invoices_format import ListInvoicesFormat
from .list_invoices_status_item import ListInvoicesStatusItem
from .list_payments_format import ListPaymentsFormat
from .list_payments_method import ListPaymentsMethod
from .list_payments_status import ListPaymentsStatus
from .list_stripe_events_outcome import ListStripeEventsOutcome
from .new_checkout_session import NewCheckoutSession
from .new_credit_note import NewCreditNote
from .new_customer import NewCustomer
from .new_hold import NewHold
from .new_import import NewImport
from .new_import_format import NewImportFormat
from .new_invoice import NewInvoice
from .new_offline_payment import NewOfflinePayment
from .new_offline_payment_method import NewOfflinePaymentMethod
from .new_pay_link import NewPayLink
from .new_recurring_charge import NewRecurringCharge
from .new_recurring_charge_interval import NewRecurringChargeInterval
from .new_refund import NewRefund
from .new_refund_reason import NewRefundReason
from .new_reversal import NewReversal
from .new_webhook_endpoint import NewWebhookEndpoint
from .offline_payment_made_out import OfflinePaymentMadeOut
from .offline_payment_made_out_invoice_status import OfflinePaymentMadeOutInvoiceStatus
from .offline_receipt_out import OfflineReceiptOut
from .offline_receipt_out_method import OfflineReceiptOutMethod
from .pay_link_out import PayLinkOut
from .payment_out import PaymentOut
from .payment_out_status import PaymentOutStatus
from .payment_row_out import PaymentRowOut
from .payment_row_out_method import PaymentRowOutMethod
from .payment_row_out_status import PaymentRowOutStatus
from .payments_page import PaymentsPage
from .plan_offer_model import PlanOfferModel
from .plan_offer_model_frequencies_item import PlanOfferModelFrequenciesItem
from .plan_out import PlanOut
from .plan_out_frequency import PlanOutFrequency
from .plan_out_kind import PlanOutKind
from .plan_out_status import PlanOutStatus
from .recurring_changes import RecurringChanges
from .recurring_charge_out import RecurringChargeOut
from .recurring_charge_out_status import RecurringChargeOutStatus
from .refund_made_out import RefundMadeOut
from .refund_made_out_invoice_status import RefundMadeOutInvoiceStatus
from .refund_out import RefundOut
from .refund_out_status import RefundOutStatus
from .rejected_row_out import RejectedRowOut
from .reminder_figures_out import ReminderFiguresOut
from .reminder_out import ReminderOut
from .reminder_paid_out import ReminderPaidOut
from .reminder_report_out import ReminderReportOut
from .reminders_report_format import RemindersReportFormat
from .replay_out import ReplayOut
from .replay_out_outcome import ReplayOutOutcome
from .stripe_event_out import StripeEventOut
from .stripe_event_out_outcome import StripeEventOutOutcome
from .stripe_events_page import StripeEventsPage
from .transactions_page import TransactionsPage
from .upload_form_out import UploadFormOut
from .upload_form_out_fields import UploadFormOutFields
from .upload_out import UploadOut
from .webhook_endpoint_changes import WebhookEndpointChanges
from .webhook_endpoint_out import WebhookEndpointOut
from .webhook_endpoint_out_disabled_reason_type_0 import (
    WebhookEndpointOutDisabledReasonType0,
)
from .webhook_endpoint_with_secret import WebhookEndpointWithSecret
from .webhook_endpoint_with_secret_disabled_reason_type_0 import (
    WebhookEndpointWithSecretDisabledReasonType0,
)
from .webhook_endpoints_page import WebhookEndpointsPage

__all__ = (
    "AgingLineOut",
    "AgingReportFormat",
    "AgingReportOut",
    "AuditEntryOut",
    "AuditEntryOutDetails",
    "AuditPage",
    "CausedBy",
    "CausedByKind",
    "CheckoutSessionOut",
    "CollectionsFigures",
    "CollectionsLineOut",
    "CollectionsLineOutInputs",
    "CollectionsReportFormat",
    "CollectionsReportOut",
    "CreatedInvoice",
    "CreatedInvoiceStatus",
    "CreditNoteIssuedOut",
    "CreditNoteOut",
    "CustomerAgingOut",
    "CustomerChanges",
    "CustomerErasure",
    "CustomerErasureOpenInvoices",
    "CustomerExport",
    "CustomerExportCustomer",
    "CustomerOut",
    "CustomersPage",
    "DeliveryRetryOut",
    "DunningPolicyModel",
    "DunningStepModel",
    "DunningStepModelTemplate",
    "EmailUndeliverableOut",
    "EmailUndeliverableOutReason",
    "ErrorBody",
    "ErrorDetail",
    "ExportCustomerFormat",
    "ExportedAuditEntry",
    "ExportedAuditEntryDetails",
    "ExportedEmail",
    "ExportedInvoice",
    "ExportedInvoiceCheckoutAttemptsItem",
    "ExportedInvoiceDisputesItem",
    "ExportedInvoicePaymentsItem",
    "ExportedInvoicePlansItem",
    "ExportedInvoiceRemindersOpenedItem",
    "ExportedRecurringCharge",
    "ExportPaymentsFormat",
    "FailedDeliveriesPage",
    "FailedDeliveryOut",
    "FeeOut",
    "FieldProblem",
    "GatewayError",
    "HoldOut",
    "ImportOut",
    "ImportOutFormat",
    "ImportOutStatus",
    "InstallmentOut",
    "InstallmentOutStatus",
    "InvoiceChanges",
    "InvoiceOut",
    "InvoiceOutStatus",
    "InvoiceRowOut",
    "InvoiceRowOutStatus",
    "InvoicesPage",
    "LateFeeLineOut",
    "LateFeeModel",
    "ListCustomersFormat",
    "ListInvoicesFormat",
    "ListInvoicesStatusItem",
    "ListPaymentsFormat",
    "ListPaymentsMethod",
    "ListPaymentsStatus",
    "ListStripeEventsOutcome",
    "NewCheckoutSession",
    "NewCreditNote",
    "NewCustomer",
    "NewHold",
    "NewImport",
    "NewImportFormat",
    "NewInvoice",
    "NewOfflinePayment",
    "NewOfflinePaymentMethod",
    "NewPayLink",
    "NewRecurringCharge",
    "NewRecurringChargeInterval",
    "NewRefund",
    "NewRefundReason",
    "NewReversal",
    "NewWebhookEndpoint",
    "OfflinePaymentMadeOut",
    "OfflinePaymentMadeOutInvoiceStatus",
    "OfflineReceiptOut",
    "OfflineReceiptOutMethod",
    "PayLinkOut",
    "PaymentOut",
    "PaymentOutStatus",
    "PaymentRowOut",
    "PaymentRowOutMethod",
    "PaymentRowOutStatus",
    "PaymentsPage",
    "PlanOfferModel",
    "PlanOfferModelFrequenciesItem",
    "PlanOut",
    "PlanOutFrequency",
    "PlanOutKind",
    "PlanOutStatus",
    "RecurringChanges",
    "RecurringChargeOut",
    "RecurringChargeOutStatus",
    "RefundMadeOut",
    "RefundMadeOutInvoiceStatus",
    "RefundOut",
    "RefundOutStatus",
    "RejectedRowOut",
    "ReminderFiguresOut",
    "ReminderOut",
    "ReminderPaidOut",
    "ReminderReportOut",
    "RemindersReportFormat",
    "ReplayOut",
    "ReplayOutOutcome",
    "StripeEventOut",
    "StripeEventOutOutcome",
    "StripeEventsPage",
    "TransactionsPage",
    "UploadFormOut",
    "UploadFormOutFields",
    "UploadOut",
    "WebhookEndpointChanges",
    "WebhookEndpointOut",
    "WebhookEndpointOutDisabledReasonType0",
    "WebhookEndpointsPage",
    "WebhookEndpointWithSecret",
    "WebhookEndpointWithSecretDisabledReasonType0",
)
