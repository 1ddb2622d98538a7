"""The customer's own export from their account: asked for behind a fresh code (step-up), delivered as an emailed
link that downloads the zip once.

- `ask` / `request`: the step-up code for StepUpAction.DATA_EXPORT, then, with that code, an email per customer
  record the session opened.
- `mint_link` (the outbox, when it sends that email): a random token (256 bits), only its hash kept, good for
  EXPORT_LINK_HOURS and for one download.
- `download`: the token used up, the customer's export collected (audited as `customer.exported` by the
  account), or ExportLinkGone (410) for one used or expired, NotFound for one never issued.

The download needs no session: the link is sent only after a fresh code typed in a signed-in session, so it
already proves the mailbox twice, and the customer may open the email on another device than the one they
asked on. It is single-purpose (only the export), single-use and short-lived; docs/decisions.md 127.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from shared.clock import Clock
from shared.domain.account import AccountSession, StepUpAction
from shared.domain.errors import DomainError, NotFound
from shared.domain.messages import DataExportEmail, outgoing_email
from shared.domain.subject_access import SubjectAccessExport
from shared.services import step_up
from shared.services.account_codes import CodeAsked
from shared.services.account_ports import AccountStore
from shared.services.ports import Change, Ledger
from shared.services.privacy_ports import ExportLink, ExportLinks, SubjectRecords
from shared.services.subject_access import export

EXPORT_LINK_HOURS: Final = 24
TOKEN_BYTES: Final = 32
MAX_TOKEN_LENGTH: Final = 64  # token_urlsafe(32) is 43 characters


class ExportLinkGone(DomainError):
    """The link was used already, or it expired: ask for a new one in the account."""

    code = "export_link_gone"


@dataclass(frozen=True, slots=True)
class MintedLink:
    token: str  # in the email only
    hours: int

    def url(self, public_base_url: str) -> str:
        return f"{public_base_url.rstrip('/')}/account/export/{self.token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ask(store: AccountStore, clock: Clock, session: AccountSession, *, source_ip: str) -> CodeAsked:
    """Email a step-up code for the export to the session's address."""
    return step_up.ask(store, clock, session, StepUpAction.DATA_EXPORT, source_ip=source_ip)


def request(
    store: AccountStore,
    ledger: Ledger,
    session_clock: Clock,
    clock: Clock,
    session: AccountSession,
    *,
    code: str,
    source_ip: str,
) -> list[str]:
    """With the fresh code: queue an email with a download link for each customer record the session opened
    (one address may hold several; each link downloads one record's export). Returns their ids. StepUpRequired
    or CodeRefused without a good code."""
    step_up.confirm(store, session_clock, session, StepUpAction.DATA_EXPORT, code=code, source_ip=source_ip)
    emails = [outgoing_email(DataExportEmail(customer_id), clock.now()) for customer_id in session.customer_ids]
    ledger.commit(Change(outbox=emails))
    return list(session.customer_ids)


def mint_link(links: ExportLinks, clock: Clock, customer_id: str) -> MintedLink:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    expires = now + timedelta(hours=EXPORT_LINK_HOURS)
    links.save_export_link(ExportLink(token_hash(token), customer_id, created_at=now, expires_at=expires))
    return MintedLink(token, EXPORT_LINK_HOURS)


def check(links: ExportLinks, clock: Clock, token: str) -> ExportLink:
    """The link of `token` while it works (NotFound: never issued; ExportLinkGone: used or expired)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("no such link")
    link = links.get_export_link(token_hash(token))
    if link is None:
        raise NotFound("no such link")
    if link.used_at is not None or link.expires_at <= clock.now():
        raise ExportLinkGone("this link was used or has expired")
    return link


def download(
    links: ExportLinks, records: SubjectRecords, ledger: Ledger, clock: Clock, token: str
) -> SubjectAccessExport:
    """Use the link up, then collect the export (audited under the customer, actor `customer:export_link`)."""
    link = check(links, clock, token)
    if not links.use_export_link(link.token_hash, clock.now()):
        raise ExportLinkGone("this link was used or has expired")  # another download was first
    return export(records, ledger, clock, link.customer_id, actor="customer:export_link", via="account")
