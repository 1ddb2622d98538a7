"""Findings accepted on purpose: cdk-nag suppressions and checkov skips, each with the reason a reviewer
would ask for, written once and given to both scanners (`exempt`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import CfnResource, Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

INLINE_POLICY_REASON: Final = (
    "This role's policy is CDK's DefaultPolicy, attached to this one role and to nothing else: a strict "
    "one-to-one relation between a principal and its permissions, the case AWS's IAM guide names for inline "
    "policies. A customer-managed policy would be a second, attachable object holding the same statements; "
    "changes are versioned and reviewed in this repository's history and CloudFormation change sets."
)


def inline_policy() -> NagPackSuppression:
    return NagPackSuppression(id="PCI.DSS.321-IAMNoInlinePolicy", reason=INLINE_POLICY_REASON)


# -- findings accepted on purpose, for both scanners -----------------------------------------------------

CHECKOV_METADATA_KEY: Final = "checkov"


@dataclass(frozen=True, slots=True)
class Exemption:
    """A finding accepted on purpose, with the one reason a reviewer reads: given to cdk-nag (its rule ids)
    and written into the resource's template metadata for checkov (its check ids), so both scanners see the
    same exception on the same resource and nowhere else."""

    reason: str
    nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()


def exempt(construct: IConstruct, *exemptions: Exemption) -> None:
    """Record each exemption on `construct` (an L2 construct: on its CloudFormation resource)."""
    suppressions = [NagPackSuppression(id=rule, reason=e.reason) for e in exemptions for rule in e.nag]
    if suppressions:
        NagSuppressions.add_resource_suppressions(construct, suppressions)
    skips = [{"id": check, "comment": e.reason} for e in exemptions for check in e.checkov]
    if skips:
        resource = cfn_resource_of(construct)
        held = resource.get_metadata(CHECKOV_METADATA_KEY) or {}
        resource.add_metadata(CHECKOV_METADATA_KEY, {"skip": [*held.get("skip", []), *skips]})


def cfn_resource_of(construct: IConstruct) -> CfnResource:
    child = construct.node.default_child
    resource = child if isinstance(child, CfnResource) else construct
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to exempt")
    return resource


@dataclass(frozen=True, slots=True)
class Skip:
    """One checkov skip as the synthesized stack holds it."""

    path: str  # the resource's construct path, e.g. payportal-dev/Functions/CheckoutFunction/Resource
    check: str
    reason: str


def checkov_skips(stack: Stack) -> list[Skip]:
    """Every checkov skip in the stack, in construct order."""
    found = []
    for construct in stack.node.find_all():
        if isinstance(construct, CfnResource):
            for skip in (construct.get_metadata(CHECKOV_METADATA_KEY) or {}).get("skip", []):
                found.append(Skip(path=construct.node.path, check=skip["id"], reason=skip["comment"]))
    return found
