"""The open balance: what is still to be collected, per currency, from the invoices being collected."""

from __future__ import annotations

from dataclasses import dataclass

from shared.services.ports import Ledger


@dataclass(frozen=True, slots=True)
class OpenBalance:
    currency: str
    amount: int  # minor units still to collect
    invoices: int  # invoices collecting it


def open_balances(ledger: Ledger) -> list[OpenBalance]:
    """One line per currency with anything open, in currency order."""
    return [
        OpenBalance(currency=currency, amount=amount, invoices=count)
        for currency, (amount, count) in sorted(ledger.open_balances().items())
    ]
