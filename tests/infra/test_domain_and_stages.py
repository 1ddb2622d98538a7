"""An optional custom domain (TLS 1.2, the only way in once set), and what the stage decides: production
cannot be destroyed, and execution logs are ours (encrypted, expiring)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from infra.config import InvalidContextError, StageConfig
from tests.infra.conftest import Synthesized, synthesize

DOMAIN = "pay.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def outputs(synthesized: Synthesized) -> dict[str, Any]:
    return dict(synthesized.template.to_json()["Outputs"])


def public_base_urls(synthesized: Synthesized) -> list[Any]:
    return [
        f["Properties"]["Environment"]["Variables"]["PAYPORTAL_PUBLIC_BASE_URL"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
    ]


def test_without_a_domain_the_api_answers_on_its_own_url(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::ApiGateway::DomainName") == {}
    [api] = synthesized.resources("AWS::ApiGateway::RestApi").values()
    assert not api["Properties"].get("DisableExecuteApiEndpoint")
    assert all("execute-api" in str(url) for url in public_base_urls(synthesized))


def test_a_custom_domain_with_a_certificate_is_the_only_way_in() -> None:
    synthesized = synthesize(**{"payportal:domainName": DOMAIN, "payportal:certificateArn": CERTIFICATE})

    [domain] = synthesized.resources("AWS::ApiGateway::DomainName").values()
    props = domain["Properties"]
    assert (props["DomainName"], props["SecurityPolicy"]) == (DOMAIN, "TLS_1_2")
    assert props["RegionalCertificateArn"] == CERTIFICATE
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    [mapping] = synthesized.resources("AWS::ApiGateway::BasePathMapping").values()
    assert mapping["Properties"]["Stage"] == {
        "Ref": synthesized.logical_id(synthesized.stack.api.rest_api.deployment_stage)
    }
    [api] = synthesized.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["DisableExecuteApiEndpoint"] is True
    # Pay links, and the URL the Stripe CLI registers, use the domain
    assert set(public_base_urls(synthesized)) == {f"https://{DOMAIN}"}
    assert outputs(synthesized)["ApiUrl"]["Value"] == f"https://{DOMAIN}/"
    assert synthesized.resources("AWS::Route53::RecordSet") == {}


def test_a_hosted_zone_gets_a_dns_validated_certificate_and_an_alias_record() -> None:
    synthesized = synthesize(
        **{"payportal:domainName": DOMAIN, "payportal:hostedZoneId": "Z123", "payportal:hostedZoneName": "example.com"}
    )

    [certificate] = synthesized.resources("AWS::CertificateManager::Certificate").values()
    assert certificate["Properties"]["DomainName"] == DOMAIN
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    [record] = synthesized.resources("AWS::Route53::RecordSet").values()
    assert (record["Properties"]["Name"], record["Properties"]["Type"]) == (f"{DOMAIN}.", "A")
    assert record["Properties"]["HostedZoneId"] == "Z123"


@pytest.mark.parametrize(
    "context",
    [
        {"payportal:domainName": DOMAIN},  # no way to get a certificate
        {"payportal:domainName": "https://pay.example.com"},
        {"payportal:certificateArn": CERTIFICATE},  # a certificate for no domain
        {"payportal:domainName": DOMAIN, "payportal:certificateArn": "not-an-arn"},
    ],
)
def test_an_incomplete_domain_setting_fails_the_synth(context: dict[str, str]) -> None:
    with pytest.raises(InvalidContextError):
        synthesize(**context)


def test_the_nag_packs_stay_clean_with_a_custom_domain() -> None:
    checked = synthesize(
        **{"payportal:nag": "true", "payportal:domainName": DOMAIN, "payportal:hostedZoneId": "Z1"},
        **{"payportal:hostedZoneName": "example.com"},
    )
    annotations = Annotations.from_stack(checked.stack)
    packs = Match.string_like_regexp("(AwsSolutions|Serverless|PCI.DSS.321)-.*")

    assert [f"{e.id}: {e.entry.data}" for e in annotations.find_error("*", packs)] == []
    assert [f"{w.id}: {w.entry.data}" for w in annotations.find_warning("*", packs)] == []


def test_no_cors_is_granted_to_any_other_origin(synthesized: Synthesized) -> None:
    # Every browser-facing page is served from the API's own origin: no preflight routes, no CORS headers
    methods = synthesized.resources("AWS::ApiGateway::Method").values()
    assert all(m["Properties"]["HttpMethod"] != "OPTIONS" for m in methods)
    assert "Access-Control-Allow-Origin" not in str(synthesized.template.to_json())


def test_only_production_is_protected_from_deletion(synthesized: Synthesized) -> None:
    assert not synthesized.stack.termination_protection
    assert synthesize(stage="prod").stack.termination_protection


def test_execution_logs_are_encrypted_and_expire(synthesized: Synthesized) -> None:
    logs = synthesized.resource(synthesized.stack.api.execution_logs)
    name = logs["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert name[0] == "API-Gateway-Execution-Logs_" and name[-1] == "/dev"
    assert logs["Properties"]["KmsKeyId"] == {
        "Fn::GetAtt": [synthesized.logical_id(synthesized.stack.storage.key), "Arn"]
    }
    assert logs["Properties"]["RetentionInDays"] == 30
    stage = synthesized.resource(synthesized.stack.api.rest_api.deployment_stage)
    assert synthesized.logical_id(synthesized.stack.api.execution_logs) in stage["DependsOn"]


def test_concurrency_is_capped_where_partners_limit_it_in_prod_only_by_default(synthesized: Synthesized) -> None:
    def caps(s: Synthesized) -> dict[str, Any]:
        functions = s.stack.lambdas.functions
        return {
            name: s.resource(function)["Properties"].get("ReservedConcurrentExecutions")
            for name, function in functions.items()
        }

    assert set(caps(synthesized).values()) == {None}  # dev: new accounts cannot reserve any
    prod = caps(synthesize(stage="prod"))
    assert {name: cap for name, cap in prod.items() if cap is not None} == {"outbox": 2, "charges": 2, "reconcile": 1}
    assert set(caps(synthesize(stage="prod", **{"payportal:reservedConcurrency": "false"})).values()) == {None}
    with pytest.raises(InvalidContextError):
        synthesize(**{"payportal:reservedConcurrency": "sometimes"})


class _Context:
    """A construct node's context, as StageConfig.from_context reads it."""

    def __init__(self, **values: str) -> None:
        self._values = {"payportal:sesSender": "billing@example.com", **values}

    def try_get_context(self, key: str) -> str | None:
        return self._values.get(key)


@pytest.mark.parametrize("logo", ["../secrets.png", "logo.gif", "branding/logo.png", "missing.png"])
def test_a_logo_must_be_an_image_file_in_shared_branding(logo: str) -> None:
    with pytest.raises(InvalidContextError):
        StageConfig.from_context(_Context(**{"payportal:businessLogo": logo}))  # type: ignore[arg-type]


def test_the_business_identity_on_documents_reaches_every_function() -> None:
    identity = {
        "payportal:businessAddress": "1 Example Street\n10115 Berlin",
        "payportal:businessTaxId": "DE123",
        "payportal:businessLogo": "example-logo.png",
    }
    checked = synthesize(**identity)

    for function in checked.stack.lambdas.functions.values():
        variables = checked.resource(function)["Properties"]["Environment"]["Variables"]
        assert variables["PAYPORTAL_BUSINESS_ADDRESS"] == "1 Example Street\n10115 Berlin"
        assert (variables["PAYPORTAL_BUSINESS_TAX_ID"], variables["PAYPORTAL_BUSINESS_LOGO"]) == (
            "DE123",
            "example-logo.png",
        )
