"""API Gateway exposes exactly the routes of shared/routes.py, with the authorisation each declares."""

from __future__ import annotations

from typing import Any

from shared.routes import ROUTES
from tests.infra.conftest import Synthesized, find_refs


def resource_paths(synthesized: Synthesized) -> dict[str, str]:
    """Logical id of each API Gateway resource -> its full path, rebuilt from the template alone."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        parent = properties["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path_of(logical_id) for logical_id in resources}


def deployed_routes(synthesized: Synthesized) -> set[tuple[str, str, str, str]]:
    """(method, path, authorization, function logical id) for every method in the template."""
    paths = resource_paths(synthesized)
    routes = set()
    for method in synthesized.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        integration: dict[str, Any] = properties["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        [target] = {ref[0] for ref in find_refs(integration["Uri"], "Fn::GetAtt")}
        routes.add(
            (properties["HttpMethod"], paths[properties["ResourceId"]["Ref"]], properties["AuthorizationType"], target)
        )
    return routes


def test_every_route_and_only_those_routes_are_deployed(synthesized: Synthesized) -> None:
    # Given the routes the local stack also serves
    functions = synthesized.stack.lambdas.functions
    expected = {
        (
            route.method,
            route.path,
            "AWS_IAM" if route.auth == "iam" else "NONE",
            synthesized.logical_id(functions[route.function]),
        )
        for route in ROUTES
    }

    # When the API is synthesized
    deployed = deployed_routes(synthesized)

    # Then API Gateway has one method per route, to the route's function, with its authorisation
    assert deployed == expected
    assert len(synthesized.resources("AWS::ApiGateway::Method")) == len(ROUTES)


def test_operator_routes_need_iam_and_the_others_need_none(synthesized: Synthesized) -> None:
    for method, path, authorization, _ in deployed_routes(synthesized):
        expected = "AWS_IAM" if path.startswith("/v1/") else "NONE"
        assert authorization == expected, f"{method} {path}"


def test_path_parameters_are_required_and_validated(synthesized: Synthesized) -> None:
    validator = synthesized.stack.api.request_validator
    for method in synthesized.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        assert properties["RequestValidatorId"] == {"Ref": synthesized.logical_id(validator)}
        for name, required in properties.get("RequestParameters", {}).items():
            assert name.startswith("method.request.path.")
            assert required is True


def test_the_stage_is_named_after_the_stage_logs_access_and_throttles(synthesized: Synthesized) -> None:
    api = synthesized.stack.api
    [stage] = synthesized.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]

    assert properties["StageName"] == synthesized.app.node.try_get_context("stage") == api.stage_name
    # The access log group, by the ARN API Gateway stores: no `:*` (apigateway:logGroupDestinationArnWithoutWildcard)
    destination = properties["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    assert ":log-group:" in destination
    assert destination[-1] == {"Ref": synthesized.logical_id(api.access_logs)}
    [settings] = properties["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    # Bodies hold customer data and tokens: never logged
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0


def test_access_logs_never_hold_the_pay_token_in_the_path(synthesized: Synthesized) -> None:
    [stage] = synthesized.resources("AWS::ApiGateway::Stage").values()
    log_format = stage["Properties"]["AccessLogSetting"]["Format"]

    # $context.resourcePath is the template (/pay/{token}); $context.path would be the real token
    assert "$context.resourcePath" in log_format
    assert "$context.path" not in log_format


def test_every_media_type_is_binary_so_pdfs_reach_browsers(synthesized: Synthesized) -> None:
    # A browser following a link asks for text/html first; API Gateway passes a PDF only if that matches.
    [rest_api] = synthesized.resources("AWS::ApiGateway::RestApi").values()

    assert rest_api["Properties"]["BinaryMediaTypes"] == ["*/*"]


def test_api_gateway_may_invoke_each_http_function_through_this_api_only(synthesized: Synthesized) -> None:
    # One permission per function, not one per method (the stack stays well under CloudFormation's 500 resources)
    api_id = synthesized.logical_id(synthesized.stack.api.rest_api)
    by_api = [
        p["Properties"]
        for p in synthesized.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    targets = sorted(find_refs(p["FunctionName"], "Fn::GetAtt")[0][0] for p in by_api)
    assert len(targets) == len(set(targets)) == len({route.function for route in ROUTES})
    assert all({"Ref": api_id} in find_refs(p["SourceArn"], "Ref") or api_id in str(p["SourceArn"]) for p in by_api)
    # CloudFormation takes 500 resources a stack. dev is at 463 with the retention function (10 resources: its
    # role, policy, logs, schedule, schedule role and policy, three alarms) and the data-protection routes (each
    # route a resource and a method); prod has a few more. Past this guard, fold a job into an existing function
    # or move the API's methods to a nested stack before adding more.
    assert len(synthesized.template.to_json()["Resources"]) < 475
