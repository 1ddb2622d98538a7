"""cdk-nag suppressions that several constructs share, each with the reason a reviewer would ask for."""

from __future__ import annotations

from typing import Final

from cdk_nag import NagPackSuppression

INLINE_POLICY_REASON: Final = (
    "This role's policy is CDK's DefaultPolicy, attached to this one role and to nothing else: a strict "
    "one-to-one relation between a principal and its permissions, the case AWS's IAM guide names for inline "
    "policies. A customer-managed policy would be a second, attachable object holding the same statements; "
    "changes are versioned and reviewed in this repository's history and CloudFormation change sets."
)


def inline_policy() -> NagPackSuppression:
    return NagPackSuppression(id="PCI.DSS.321-IAMNoInlinePolicy", reason=INLINE_POLICY_REASON)
