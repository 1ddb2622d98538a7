"""The audit trail as the operator API shows it: one way of naming an operator, whoever wrote the entry."""

from __future__ import annotations

import pytest

from functions.operator_api.views import audit_entry_out
from shared.domain.records import AuditEntry, AuditSubject
from tests.fakes.records import NOW

ARN = "arn:aws:iam::123456789012:user/ops"


@pytest.mark.parametrize("stored", [ARN, f"operator:{ARN}"])
def test_an_operator_reads_as_its_iam_identity_however_the_entry_stored_it(stored: str) -> None:
    entry = AuditEntry(AuditSubject.INVOICE, "inv_1", "invoice.voided", stored, NOW)
    shown = audit_entry_out(entry)
    assert (shown.actor, shown.caused_by.kind, shown.caused_by.id) == (ARN, "operator", ARN)


@pytest.mark.parametrize("actor", ["stripe", "customer", "job:reconcile", "ses"])
def test_other_actors_are_shown_as_they_are(actor: str) -> None:
    assert audit_entry_out(AuditEntry(AuditSubject.CUSTOMER, "cust_1", "x", actor, NOW)).actor == actor
