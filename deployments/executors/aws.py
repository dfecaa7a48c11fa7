"""``aws`` steps (boto3): shift ALB weights between blue and green target groups, change
Route53 weighted records, invalidate CloudFront paths.

Each action reads first and writes only what differs, then reads back: the listener's
(or rule's) forward weights after ``modify_*``; the record sets after the change is
``INSYNC`` (``get_change``); the invalidation until it is completed (moto answers
"COMPLETED" where AWS says "Completed": compared without case). A CloudFront
invalidation carries the step's idempotency key as its CallerReference, and an
invalidation with that reference is looked up before a new one is made, so a step taken
over does not invalidate twice. botocore's standard retry mode retries throttling and
5xx answers; every call has connect and read timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from deployments.executors.base import Executor, RunContext, StepFailed, known, number, text
from warroom.errors import FieldError

ACTIONS = ("alb_weights", "route53_weights", "cloudfront_invalidate")


def _weights(config: Mapping[str, Any]) -> dict[str, int]:
    w = config.get("weights")
    if not isinstance(w, Mapping) or not w:
        raise FieldError("config.weights", "must map target group ARNs to weights (0-999)")
    for arn, value in w.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 999:
            raise FieldError(f"config.weights.{arn}", "must be a whole number from 0 to 999")
    return dict(w)


def _records(config: Mapping[str, Any]) -> list[dict]:
    found = config.get("records")
    if not isinstance(found, list) or not found:
        raise FieldError("config.records", "must list the weighted records")
    out = []
    for n, r in enumerate(found):
        prefix = f"config.records.{n}"
        if not isinstance(r, Mapping):
            raise FieldError(prefix, "must be an object")
        known(r, {"set_identifier", "weight", "value", "ttl"}, prefix)
        out.append({
            "set_identifier": text(r, "set_identifier", prefix=prefix),
            "weight": number(r, "weight", maximum=255, integer=True, prefix=prefix),
            "value": text(r, "value", prefix=prefix),
            "ttl": number(r, "ttl", default=60, maximum=172800, integer=True, prefix=prefix),
        })  # fmt: skip
    return out


class AwsExecutor(Executor):
    kind = "aws"
    label = "AWS"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {
            "action", "region", "listener_arn", "rule_arn", "weights", "zone_id", "name",
            "type", "records", "distribution_id", "paths", "timeout", "poll",
        })  # fmt: skip
        action = text(config, "action", choices=ACTIONS)
        out: dict = {
            "action": action,
            "region": text(config, "region", required=False, default=settings.AWS_REGION),
            "timeout": number(config, "timeout", default=900, minimum=1, maximum=86400),
            "poll": number(config, "poll", default=5, minimum=0.05, maximum=300),
        }
        if action == "alb_weights":
            if not (config.get("listener_arn") or config.get("rule_arn")):
                raise FieldError("config.listener_arn", "name the listener (or rule_arn)")
            for key in ("listener_arn", "rule_arn"):
                if config.get(key):
                    out[key] = text(config, key)
            out["weights"] = _weights(config)
        elif action == "route53_weights":
            out["zone_id"] = text(config, "zone_id")
            out["name"] = text(config, "name")
            out["type"] = text(config, "type", required=False, default="CNAME",
                               choices=("A", "AAAA", "CNAME", "TXT"))  # fmt: skip
            out["records"] = _records(config)
        else:
            out["distribution_id"] = text(config, "distribution_id")
            paths = config.get("paths")
            if (
                not isinstance(paths, list)
                or not paths
                or not all(isinstance(p, str) and p.startswith("/") for p in paths)
            ):
                raise FieldError("config.paths", "must list paths starting with /")
            out["paths"] = list(paths)
        return out

    def describe(self, config: Mapping[str, Any]) -> str:
        action = config.get("action")
        if action == "alb_weights":
            return "ALB weights " + ", ".join(
                f"{arn.rsplit('/', 2)[-2] if '/' in arn else arn}={w}"
                for arn, w in config.get("weights", {}).items()
            )
        if action == "route53_weights":
            return f"Route53 {config.get('name')} " + ", ".join(
                f"{r['set_identifier']}={r['weight']}" for r in config.get("records", [])
            )
        return f"CloudFront invalidate {', '.join(config.get('paths', []))}"

    def _client(self, service: str, c: dict):
        import boto3
        from botocore.config import Config

        timeout = settings.ENGINE_CALL_TIMEOUT
        cfg = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        return boto3.client(
            service,
            region_name=c["region"],
            endpoint_url=settings.AWS_ENDPOINT_URL or None,
            config=cfg,
        )

    def run(self, ctx: RunContext) -> str:
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError

        act = {
            "alb_weights": self._alb,
            "route53_weights": self._route53,
            "cloudfront_invalidate": self._cloudfront,
        }[ctx.config["action"]]
        try:
            return act(ctx)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise StepFailed(
                f"{exc.operation_name}: AWS answered {status} {err.get('Code', '')}:"
                f" {err.get('Message', '')}"
            ) from None
        except BotoCoreError as exc:
            raise StepFailed(f"cannot reach AWS: {exc}") from None
        except ResponseParserError as exc:  # a proxy's or load balancer's error page
            raise StepFailed(f"cannot read AWS's answer: {str(exc).splitlines()[0]}") from None

    # --- ALB -------------------------------------------------------------------------------
    def _alb(self, ctx: RunContext) -> str:
        c = ctx.config
        elb = self._client("elbv2", c)

        def current() -> tuple[list[dict], dict[str, int]]:
            if c.get("rule_arn"):
                actions = elb.describe_rules(RuleArns=[c["rule_arn"]])["Rules"][0]["Actions"]
            else:
                found = elb.describe_listeners(ListenerArns=[c["listener_arn"]])
                actions = found["Listeners"][0]["DefaultActions"]
            forward = next((a for a in actions if a["Type"] == "forward"), None)
            if forward is None:
                raise StepFailed("the listener has no forward action to weigh")
            groups = (forward.get("ForwardConfig") or {}).get("TargetGroups") or [
                {"TargetGroupArn": forward["TargetGroupArn"], "Weight": 1}
            ]
            return actions, {g["TargetGroupArn"]: g.get("Weight", 1) for g in groups}

        actions, weights = current()
        if weights == c["weights"]:
            return f"weights already {self.describe(c)}"
        if ctx.dry_run:
            return f"would change weights {weights} → {c['weights']}"
        groups = [{"TargetGroupArn": arn, "Weight": w} for arn, w in c["weights"].items()]
        new = [a for a in actions if a["Type"] != "forward"] + [
            {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
        ]
        if c.get("rule_arn"):
            elb.modify_rule(RuleArn=c["rule_arn"], Actions=new)
        else:
            elb.modify_listener(ListenerArn=c["listener_arn"], DefaultActions=new)
        _, after = current()
        if after != c["weights"]:
            raise StepFailed(f"read back weights {after}, not {c['weights']}")
        ctx.log(f"weights {weights} → {after}")
        return self.describe(c)

    # --- Route53 ---------------------------------------------------------------------------
    def _route53(self, ctx: RunContext) -> str:
        c = ctx.config
        r53 = self._client("route53", c)
        name = c["name"].rstrip(".") + "."

        def current() -> dict[str, tuple[int, str]]:
            sets = r53.list_resource_record_sets(
                HostedZoneId=c["zone_id"], StartRecordName=name, StartRecordType=c["type"]
            )["ResourceRecordSets"]
            return {
                s["SetIdentifier"]: (s.get("Weight"), s["ResourceRecords"][0]["Value"])
                for s in sets
                if s["Name"] == name and s["Type"] == c["type"] and "SetIdentifier" in s
            }

        want = {r["set_identifier"]: (r["weight"], r["value"]) for r in c["records"]}
        before = current()
        changes = [
            r for r in c["records"] if before.get(r["set_identifier"]) != want[r["set_identifier"]]
        ]
        if not changes:
            return f"records already {self.describe(c)}"
        if ctx.dry_run:
            return f"would change {', '.join(r['set_identifier'] for r in changes)}"
        batch = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": name, "Type": c["type"], "SetIdentifier": r["set_identifier"],
                    "Weight": r["weight"], "TTL": r["ttl"],
                    "ResourceRecords": [{"Value": r["value"]}],
                },
            }
            for r in changes
        ]  # fmt: skip
        change = r53.change_resource_record_sets(
            HostedZoneId=c["zone_id"],
            ChangeBatch={"Comment": ctx.idempotency_key, "Changes": batch},
        )["ChangeInfo"]
        self._until(ctx, lambda: r53.get_change(Id=change["Id"])["ChangeInfo"]["Status"], "INSYNC")
        after = current()
        wrong = {k: after.get(k) for k, v in want.items() if after.get(k) != v}
        if wrong:
            raise StepFailed(f"read back {wrong}")
        ctx.log(f"records {before} → {after}")
        return self.describe(c)

    # --- CloudFront ------------------------------------------------------------------------
    def _cloudfront(self, ctx: RunContext) -> str:
        c = ctx.config
        cf = self._client("cloudfront", c)
        dist = c["distribution_id"]
        existing = None
        listed = cf.list_invalidations(DistributionId=dist, MaxItems="20")
        for item in (listed.get("InvalidationList") or {}).get("Items") or []:
            got = cf.get_invalidation(DistributionId=dist, Id=item["Id"])["Invalidation"]
            if got["InvalidationBatch"]["CallerReference"] == ctx.idempotency_key:
                existing = got
                break
        if existing is None:
            if ctx.dry_run:
                return f"would invalidate {', '.join(c['paths'])} on {dist}"
            existing = cf.create_invalidation(
                DistributionId=dist,
                InvalidationBatch={
                    "Paths": {"Quantity": len(c["paths"]), "Items": c["paths"]},
                    "CallerReference": ctx.idempotency_key,
                },
            )["Invalidation"]
            ctx.log(f"invalidation {existing['Id']} created")
        else:
            ctx.log(f"invalidation {existing['Id']} already made by this step")
        inv_id = existing["Id"]
        self._until(
            ctx,
            lambda: cf.get_invalidation(DistributionId=dist, Id=inv_id)["Invalidation"]["Status"],
            "Completed",
        )
        return f"invalidated {', '.join(c['paths'])} ({inv_id})"

    def _until(self, ctx: RunContext, status, done: str) -> None:
        deadline = time.monotonic() + ctx.config["timeout"]
        while (now := status()).lower() != done.lower():
            if time.monotonic() > deadline:
                raise StepFailed(f"still {now} after {ctx.config['timeout']:g} s")
            ctx.sleep(ctx.config["poll"])
