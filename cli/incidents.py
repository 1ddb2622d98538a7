"""`payportal incident affected` and `payportal incident notify`: an incident's reach from the audit trail by time
and the kept Stripe events, and the operator's notice to each affected customer, once (shared/services/
incidents.py). Printed: customer ids and counts only, never a name or an address."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cli.stripe_setup import EXIT_USAGE, SetupError
from shared.clock import Clock
from shared.domain.errors import DomainError
from shared.rendering import TEMPLATES, render_operator_text
from shared.services import incidents
from shared.services.incidents import Touch
from shared.services.privacy_ports import AuditTimeline

DEFAULT_TEMPLATE: Final = TEMPLATES / "emails" / "incident_notice.txt"
MAX_TEMPLATE_BYTES: Final = 64_000


def instant(value: str) -> datetime:
    """An ISO 8601 instant with its offset (`Z` allowed)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SetupError(
            f"{value!r} is not an ISO 8601 instant (e.g. 2027-03-01T10:00:00Z)", exit_code=EXIT_USAGE
        ) from None
    if parsed.tzinfo is None:
        raise SetupError(f"{value!r} has no offset: add Z or +hh:mm", exit_code=EXIT_USAGE)
    return parsed


def show_affected(
    timeline: AuditTimeline, since: datetime, until: datetime, *, as_json: bool, say: Callable[[str], None]
) -> None:
    try:
        found = incidents.affected(timeline, since, until)
    except DomainError as error:
        raise SetupError(error.message, exit_code=EXIT_USAGE) from None
    kinds = [t.value for t in Touch]
    if as_json:
        rows = [{"customer_id": a.customer_id, **{k: a.counts.get(k, 0) for k in kinds}} for a in found]
        say(json.dumps({"since": since.isoformat(), "until": until.isoformat(), "customers": rows}, indent=2))
        return
    say(f"{len(found)} customer(s) touched between {since.isoformat()} and {until.isoformat()}")
    if found:
        width = max(len(a.customer_id) for a in found)
        say("  ".join(["customer".ljust(width), *kinds]))
        for a in found:
            say("  ".join([a.customer_id.ljust(width), *(str(a.counts.get(k, 0)).rjust(len(k)) for k in kinds)]))


def read_template(path: str | None) -> str:
    file = Path(path) if path else DEFAULT_TEMPLATE
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise SetupError(f"cannot read the template {file}: {error.strerror}", exit_code=EXIT_USAGE) from None
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise SetupError(f"the template is over {MAX_TEMPLATE_BYTES} bytes", exit_code=EXIT_USAGE)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise SetupError("the template is not UTF-8 text", exit_code=EXIT_USAGE) from None


@dataclass(frozen=True, slots=True)
class _Sample:
    name: str = "Sample Customer"


# What a notice is rendered with at delivery (shared/services/outbox.py), with sample values.
SAMPLE_CONTEXT: Final = {
    "customer": _Sample(), "since_text": "1 Mar 2027, 10:00", "until_text": "1 Mar 2027, 14:00", "lang": "en",
    "locale": "en", "business_name": "Business", "support_contact": "help@example.com",
    "support_href": "mailto:help@example.com", "account_url": "https://example.com/account",
    "public_origin": "https://example.com",
}  # fmt: skip


def _parses(source: str) -> None:
    """The template renders with a sample customer: a syntax error, an unknown name or a sandbox refusal stops the
    run here, before anything is queued, not at each delivery."""
    from jinja2 import TemplateError, TemplateSyntaxError  # lazy: Jinja2 loads with the first template

    try:
        subject, text, _ = render_operator_text(source, **SAMPLE_CONTEXT)
    except TemplateSyntaxError as error:
        message = f"the template does not parse (line {error.lineno}): {error.message}"
        raise SetupError(message, exit_code=EXIT_USAGE) from None
    except TemplateError as error:
        raise SetupError(f"the template does not render: {error.message}", exit_code=EXIT_USAGE) from None
    if not subject or not text.strip():
        raise SetupError("the template needs a subject (its first line) and a body", exit_code=EXIT_USAGE)


def send_notices(
    timeline: AuditTimeline,
    clock: Clock,
    since: datetime,
    until: datetime,
    *,
    template: str,
    incident_id: str | None,
    dry_run: bool,
    say: Callable[[str], None],
) -> None:
    try:
        run = incidents.notify(
            timeline, clock, since, until, template=template, incident_id=incident_id, dry_run=dry_run,
            check_template=_parses,
        )  # fmt: skip
    except DomainError as error:
        raise SetupError(error.message, exit_code=EXIT_USAGE) from None
    if run.dry_run:
        say(f"incident {run.incident_id}: {len(run.queued)} customer(s) would get the notice (dry run: nothing sent)")
    else:
        say(
            f"incident {run.incident_id}: notice queued for {len(run.queued)} customer(s); "
            f"{len(run.already)} had it already"
        )
    for customer_id in run.queued:
        say(f"  {customer_id}")
