"""Fuzz the JSON API against its own OpenAPI document with schemathesis.

    python scripts/api_fuzz.py [--max-examples 40] [--database-url postgres://…]

Starts a scratch stack (bench._stack: its own database, Redis and uvicorn), builds a
release with a team, and runs ``st run --checks all`` as the release manager: every
answer must be documented (status code, content type, schema) and none may be a 5xx.
Two passes: one where schemathesis invents every value (ids included), and one where
the path ids are those of the real release, so the fuzzing reaches the services.

Left out: ``positive_data_acceptance``. Business rules refuse some schema-valid
requests by design, with a 400 naming the field: GO while the gate is blocked, a
blocked item without a reason, a second rollback trigger while one is pending.
And ``negative_data_rejection``: its "invalid" requests are sometimes valid once sent
(a path id mutated to the array ``[1]`` is serialized, OpenAPI simple style, as the
valid ``1``; a partial update with every field optional was reported as missing a
required one), so it failed correct endpoints. Refusals of bad input are covered by
the API tests, field by field.
Exit status: 0 when both passes are clean.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import Stack, add_stack_arguments, log  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_stack_arguments(parser)
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--max-time", type=int, default=0, help="seconds (0: no limit)")
    args = parser.parse_args(argv)
    with Stack.from_args(args) as stack:
        team = stack.team_release()
        token = team.token("rm")
        ids = real_ids(team)
        server = stack.start_server()
        config = stack.tmp / "schemathesis.toml"
        config.write_text("[parameters]\n" + "".join(f'"path.{k}" = {v}\n' for k, v in ids.items()))
        st = Path(sys.executable).with_name("st")
        env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
        failed = 0
        for label, pre in (
            ("invented ids", []),
            ("the release's own ids", ["--config-file", str(config)]),
        ):
            # One worker: hypothesis describes strategies by parsing lambdas with `ast`, and
            # CPython 3.11's ast is not thread-safe ("AST constructor recursion depth
            # mismatch" when two workers parse at once).
            cmd = [
                str(st), *pre, "run", f"{server.url}/api/openapi.json",
                "--checks", "all",
                "--exclude-checks", "positive_data_acceptance,negative_data_rejection",
                "--header", f"Authorization: Bearer {token}",
                "--max-examples", str(args.max_examples),
                "--workers", "1", "--no-color",
            ]  # fmt: skip
            if args.max_time:
                cmd += ["--max-time", str(args.max_time)]
            log(f"schemathesis with {label} against {server.url} ({stack.database_label})")
            failed += subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0
        return 1 if failed else 0


def real_ids(team) -> dict[str, int]:
    """Ids of the release's own gate, item, role, step and rollback call."""
    from checklists.services import rollback_raise
    from deployments.models import Step
    from warroom.people.models import Role

    release = team.release
    step = Step.objects.create(
        phase=release.phases.first(), title="Run migrations", owner_role=None
    )
    call = rollback_raise(release=release, reason="error rate 2% for 6 min", user=team["rm"])
    return {
        "release_id": release.pk,
        "gate_id": team.gate().pk,
        "item_id": team.item("DBA").pk,
        "role_id": Role.objects.get(release=release, name="QA Lead").pk,
        "step_id": step.pk,
        "call_id": call.pk,
    }


if __name__ == "__main__":
    sys.exit(main())
