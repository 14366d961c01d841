"""Stateful property-based run: schemathesis' state machine, built from the links in /openapi.json (and only
those: its own link inference is off), chains real workflows with every built-in check, as test_schemathesis.py
plus the stateful ones (a deleted plan is gone, a created one can be read). 0 failures.

The links: upload a plan (201 added / 200 updated, or 202 -> GET /api/jobs/{job_id}, polled until done) -> read
it, the records of its commune, correct its metadata, delete it; a listed, found (search) or recorded plan ->
read it, correct it; /v1/models -> a model. One step in ten, on average, sends negative data.

Generated uploads carry schemathesis' random file or, for half of the valid ones, a real plan
(tests/fixtures/xa-tan-lap-dong-nai-pii-2027.md), sent synchronously or, half the time, with async=true: random
files get their 4xx (422 ``not_a_plan`` unless force=true), the plan is stored. The test asserts that the plan
was uploaded and then deleted through a link and that every linked operation answered 2xx, so it cannot pass
without exercising those paths.

The server is its own (API keys, protect_reads) over a fresh copy of the ingested corpus: what the run uploads,
corrects and deletes, no other test sees. Its state carries over from one Hypothesis example to the next, so a
replay may draw differently (``Flaky``): that ends a suite, and another starts with the next fixed seed, until
the run has made MIN_CALLS calls and covered every linked operation (TIME_LIMIT_S bounds it).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from api_checks import CHECKS, excluded_checks
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.engine.link_calibration import LinkCalibrationState
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.transport.serialization import Binary
from servers import ServerProcess

PLAN_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "xa-tan-lap-dong-nai-pii-2027.md"
UPLOAD = ("POST", "/api/documents")
DELETE = ("DELETE", "/api/documents/{doc_id}")
JOB = ("GET", "/api/jobs/{job_id}")

SCENARIOS = 20  # Hypothesis examples per suite
STEPS = 8  # API calls per scenario, at most
MIN_CALLS = 200
MAX_SUITES = 6  # suites run until the run has made MIN_CALLS calls and covered every linked operation
TIME_LIMIT_S = 45.0  # no call after this


@pytest.fixture(scope="module")
def stateful_url(
    corpus_data_copy: Callable[[], Path],
    models_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    api_key: str,
) -> Iterator[str]:
    """A server of its own, with API keys and protect_reads, over a fresh copy of the ingested corpus."""
    log = tmp_path_factory.mktemp("stateful-server") / "server.log"
    server = ServerProcess(
        corpus_data_copy(), models_dir, log, api_keys=json.dumps([api_key]), protect_reads="true"
    )
    try:
        yield server.wait_ready()
    finally:
        server.stop()


class FollowEveryLink(LinkCalibrationState):
    """Take a linked value whenever the response has one (schemathesis otherwise draws a fresh value for some
    steps with a coin Hypothesis does not record, one more way for a replay to differ)."""

    def use_probability(self, transition_id: str) -> float:
        return 1.0

    def is_calibrated(self, transition_id: str) -> bool:
        return True


def _is_valid_upload(form: object) -> bool:
    """The upload's body as its schema wants it (``file`` a string, ``force`` a boolean when present): putting a
    plan in a body that violates it elsewhere would make a negative case valid."""
    return (
        isinstance(form, dict)
        and isinstance(form.get("file"), Binary | bytes | str)
        and isinstance(form.get("force", False), bool)
    )


def _plan_or_generated(plan: bytes) -> Callable[[Any, Any], st.SearchStrategy[Any]]:
    """A ``flatmap_body`` hook: the generated upload as is, or the same with the plan as its file. Multipart
    bodies reach it wrapped with the chosen part content types (``.body``, ``.content_types``)."""

    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        operation = context.operation
        form = getattr(body, "body", body)
        if operation is None or (operation.method.upper(), operation.path) != UPLOAD or not _is_valid_upload(form):
            return st.just(body)
        with_plan = {**form, "file": Binary(plan)}
        if dataclasses.is_dataclass(body) and not isinstance(body, type):
            content_types = {**getattr(body, "content_types", {}), "file": "text/markdown"}
            return st.sampled_from([dataclasses.replace(body, body=with_plan, content_types=content_types), body])
        return st.sampled_from([with_plan, body])

    return flatmap_body


def linked_operations(raw_schema: dict[str, Any]) -> set[tuple[str, str]]:
    """The operations the document links from or to: the state machine's."""
    found = set()
    for path, operations in raw_schema["paths"].items():
        for method, operation in operations.items():
            for response in operation.get("responses", {}).values():
                for link in response.get("links", {}).values():
                    pointer, _, target_method = link["operationRef"].removeprefix("#/paths/").rpartition("/")
                    target = pointer.replace("~1", "/").replace("~0", "~")
                    found |= {(method.upper(), path), (target_method.upper(), target)}
    return found


def _sync_or_async(context: Any, query: Any) -> st.SearchStrategy[Any]:
    """A ``flatmap_query`` hook: a valid upload's query as generated, or the same with ``async=true`` (left to
    chance, the job path would be rare: most generated queries leave ``async`` out)."""
    operation = context.operation
    if (
        operation is None
        or (operation.method.upper(), operation.path) != UPLOAD
        or not isinstance(query, dict)
        or not all(isinstance(query.get(name, False), bool) for name in ("async", "force"))
    ):
        return st.just(query)
    return st.sampled_from([query, {**query, "async": True}])


@dataclasses.dataclass
class Tally:
    """What the run did: calls by operation and status, and the fate of the uploaded plans."""

    plan: bytes
    calls: Counter[tuple[str, str, int]] = dataclasses.field(default_factory=Counter)
    plan_jobs: set[str] = dataclasses.field(default_factory=set)
    plans: set[str] = dataclasses.field(default_factory=set)  # ids of stored plans uploaded by the run
    plans_uploaded: int = 0
    plans_deleted: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)

    def record(self, case: schemathesis.Case, status: int, body: Any) -> None:
        key = (case.operation.method.upper(), case.operation.path)
        self.calls[(*key, status)] += 1
        if not 200 <= status < 300 or not isinstance(body, dict):
            return
        if key == UPLOAD:
            file = case.body.get("file") if isinstance(case.body, dict) else None
            is_plan = getattr(file, "data", file) == self.plan
            if status == 202:
                if is_plan:
                    self.plan_jobs.add(body["id"])
            else:
                self._stored(body["id"], is_plan)
        elif key == JOB and body.get("status") == "done" and body.get("document"):
            self._stored(body["document"]["id"], body["id"] in self.plan_jobs)
        elif key == DELETE and body.get("id") in self.plans:
            self.plans_deleted += 1
            self.plans.discard(body["id"])

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def succeeded(self) -> set[tuple[str, str]]:
        return {(method, path) for method, path, status in self.calls if 200 <= status < 300}

    def covers(self, operations: set[tuple[str, str]]) -> bool:
        """Every operation answered 2xx and an uploaded plan was deleted."""
        return operations <= self.succeeded and self.plans_deleted > 0

    def _stored(self, doc_id: str, is_plan: bool) -> None:
        if is_plan:
            self.plans_uploaded += 1
            self.plans.add(doc_id)
        else:  # a random file stored under the same name (force=true) replaced it
            self.plans.discard(doc_id)


@pytest.fixture(scope="module")
def api_schema(stateful_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{stateful_url}/openapi.json")
    # as in test_schemathesis.py (uvicorn answers garbage headers itself); both modes, mixed per step
    schema.config.generation.update(allow_extra_parameters=False, modes=list(GenerationMode))
    # only the links the document declares: the test checks those
    schema.config.phases.stateful.inference.algorithms = []
    schema.hook(_plan_or_generated(PLAN_FILE.read_bytes()))
    schema.hook("flatmap_query")(_sync_or_async)
    return schema


class OutOfTime(Exception):
    """Raised before a call once the run's time is up (ends the suite; what it did so far is judged)."""


def test_workflows_conform(api_schema: schemathesis.BaseSchema, api_key: str) -> None:
    tally = Tally(PLAN_FILE.read_bytes())
    headers = {"Authorization": f"Bearer {api_key}"}
    operations = linked_operations(api_schema.raw_schema)
    machine = api_schema.build_state_machine(
        # the key goes with every call, so positive cases need not draw an Authorization header
        feedback=FeedbackSources(auth_headers=frozenset({"Authorization"})),
        link_calibration=FollowEveryLink(),
    )
    started = time.monotonic()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: schemathesis.Case) -> None:
            if time.monotonic() - started > TIME_LIMIT_S:
                raise OutOfTime
            super().before_call(case)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": headers, "timeout": 120}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            try:
                body = response.json()
            except ValueError:
                body = None
            tally.record(case, response.status_code, body)

        def validate_response(
            self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=CHECKS,
                    excluded_checks=excluded_checks(case),
                    headers=kwargs.get("headers"),
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                )
            except FailureGroup as exc:  # kept: a replay that then differs ends as Flaky
                tally.failures.append(f"{case.operation.method.upper()} {case.operation.path}: {exc}")
                raise

    run_settings = settings(
        max_examples=SCENARIOS,
        stateful_step_count=STEPS,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    suites: list[str] = []
    for seed in range(MAX_SUITES):
        if tally.failures or (tally.total >= MIN_CALLS and tally.covers(operations)):
            break
        before = tally.total
        try:
            hypothesis.seed(seed)(Workflow).run(settings=run_settings)
            outcome = "done"
        except Flaky as exc:
            outcome = type(exc).__name__
        except FailureGroup:  # recorded in tally.failures
            outcome = "failed"
        except OutOfTime:
            outcome = "out of time"
        suites.append(f"seed {seed}: {tally.total - before} calls, {outcome}")
        if outcome in ("failed", "out of time"):
            break
    summary = (
        f"{tally.total} calls in {time.monotonic() - started:.0f} s ({'; '.join(suites)}); plans uploaded "
        f"{tally.plans_uploaded}, deleted {tally.plans_deleted}: "
    ) + ", ".join(
        f"{method} {path} {status}: {n}" for (method, path, status), n in sorted(tally.calls.items())
    )
    print(summary)

    assert not tally.failures, "\n\n".join(tally.failures)
    assert tally.total >= MIN_CALLS, summary
    # every operation of the state machine answered 2xx at least once, reached through the links
    assert operations <= tally.succeeded, f"never 2xx: {sorted(operations - tally.succeeded)}\n{summary}"
    assert tally.plans_uploaded >= 1, f"no plan was uploaded\n{summary}"
    assert tally.plans_deleted >= 1, f"no uploaded plan was deleted through a link\n{summary}"
