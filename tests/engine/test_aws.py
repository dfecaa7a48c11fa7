"""``aws`` steps with boto3 against moto's server (ThreadedMotoServer): ALB weights
shifted blue → green, Route53 weighted records, a CloudFront invalidation — each read
back, each applied once; an endpoint that fails or stalls fails the step readably."""

from __future__ import annotations

import boto3
import pytest

from deployments.executors import RunContext, StepFailed
from deployments.executors.aws import AwsExecutor
from tests.conftest import free_port
from warroom.errors import FieldError

EXECUTOR = AwsExecutor()


@pytest.fixture
def moto(monkeypatch, settings):
    from moto.server import ThreadedMotoServer

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.AWS_REGION = "eu-west-1"
    settings.ENGINE_CALL_TIMEOUT = 2
    yield settings.AWS_ENDPOINT_URL
    server.stop()


def client(name: str, endpoint: str):
    return boto3.client(name, region_name="eu-west-1", endpoint_url=endpoint)


def run(config: dict, key: str = "warroom-step-1-attempt-1") -> RunContext:
    ctx = RunContext(config=EXECUTOR.validate(config), idempotency_key=key)
    ctx.lines.append(EXECUTOR.run(ctx))
    return ctx


def blue_green(endpoint: str) -> tuple[str, str, str]:
    ec2, elb = client("ec2", endpoint), client("elbv2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"eu-west-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    lb = elb.create_load_balancer(Name="checkout", Subnets=subnets)["LoadBalancers"][0]
    blue, green = (
        elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
            "TargetGroupArn"
        ]
        for name in ("checkout-blue", "checkout-green")
    )
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}],
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    return listener, blue, green


def test_alb_weights_shift_from_blue_to_green_and_read_back(moto):
    listener, blue, green = blue_green(moto)
    step = {"action": "alb_weights", "listener_arn": listener, "weights": {blue: 90, green: 10}}
    ctx = run(step)
    assert (
        ctx.lines[0] == f"weights {{'{blue}': 100, '{green}': 0}} → {{'{blue}': 90, '{green}': 10}}"
    )
    actions = client("elbv2", moto).describe_listeners(ListenerArns=[listener])["Listeners"][0]
    groups = actions["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert {g["TargetGroupArn"]: g["Weight"] for g in groups} == {blue: 90, green: 10}
    assert run(step).lines[0].startswith("weights already")


def test_route53_weighted_records_change_and_wait_for_insync(moto):
    r53 = client("route53", moto)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    records = [{"set_identifier": c, "weight": 50, "value": f"{c}.example.com"}
               for c in ("blue", "green")]  # fmt: skip
    step = {"action": "route53_weights", "zone_id": zone, "name": "checkout.example.com",
            "records": records}  # fmt: skip
    run(step)
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    weights = {s["SetIdentifier"]: s["Weight"] for s in sets if "SetIdentifier" in s}
    assert weights == {"blue": 50, "green": 50}
    step["records"][0]["weight"] = 0
    ctx = run(step)
    assert "'blue': (0, 'blue.example.com')" in ctx.lines[0]
    assert run(step).lines[0].startswith("records already")


def test_a_cloudfront_invalidation_is_made_once_per_step_and_waited_for(moto):
    cf = client("cloudfront", moto)
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": "d", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com",
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                           "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {
                                     "QueryString": False, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]  # fmt: skip
    step = {"action": "cloudfront_invalidate", "distribution_id": dist, "paths": ["/checkout/*"],
            "poll": 0.1}  # fmt: skip
    first = run(step, key="warroom-step-7-attempt-1")
    assert "created" in first.lines[0] and first.lines[-1].startswith("invalidated /checkout/*")
    again = run(step, key="warroom-step-7-attempt-1")  # taken over: found, not made again
    assert "already made by this step" in again.lines[0]
    listed = cf.list_invalidations(DistributionId=dist)["InvalidationList"]
    assert listed["Quantity"] == 1


def test_an_endpoint_that_fails_or_stalls_fails_the_step_readably(service, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_ENDPOINT_URL = service.url
    settings.ENGINE_CALL_TIMEOUT = 0.5
    step = {"action": "alb_weights", "listener_arn": "arn:aws:elasticloadbalancing:x",
            "weights": {"arn:blue": 100}}  # fmt: skip
    service.trouble = [(503, {})] * 3
    with pytest.raises(StepFailed, match="cannot read AWS's answer: Unable to parse"):
        run(step)
    service.slow = 2
    with pytest.raises(StepFailed, match="cannot reach AWS: Read timeout"):
        run(step)


def test_the_config_names_the_field():
    with pytest.raises(FieldError) as e:
        EXECUTOR.validate({"action": "alb_weights", "listener_arn": "arn", "weights": {"b": 1000}})
    assert e.value.field == "config.weights.b"
    with pytest.raises(FieldError) as e:
        EXECUTOR.validate({"action": "cloudfront_invalidate", "distribution_id": "D",
                           "paths": ["checkout"]})  # fmt: skip
    assert e.value.field == "config.paths"


def test_boto3_and_the_kubernetes_client_resolve_together():
    """kubernetes 37.0.2 wants python-dateutil >= 3, botocore < 3: pinned 37.0.1 keeps a
    current boto3 (an unpinned install backtracks boto3 to 2022's 1.24)."""
    import botocore
    import kubernetes

    assert kubernetes.__version__ == "37.0.1"
    assert tuple(int(p) for p in botocore.__version__.split(".")[:2]) >= (1, 44)
