"""Property-based run of every operation in /openapi.json with every built-in check: no 5xx, responses
match the schema, valid data accepted and invalid data rejected, auth enforced where declared.

Runs against the key-protected server (with its key), so generated uploads and deletions touch
only that server's copy of the data. Uses schemathesis' Python API (strategies per operation)
because its lazy pytest loader (`from_fixture`) does not work with pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from api_checks import CHECKS, excluded_checks
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
# Slow and without parameters: one call says all (re-parses every plan).
SINGLE_EXAMPLE = {("POST", "/api/documents/reindex")}


@pytest.fixture(scope="module")
def api_schema(secure_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{secure_url}/openapi.json")
    # Undeclared extra parameters include garbage headers (e.g. a non-numeric Content-Length) that
    # uvicorn rejects with its own plain-text 400 before the application sees the request.
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_every_operation_conforms(
    api_schema: schemathesis.BaseSchema, api_key: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=1
            if (operation.method.upper(), operation.path) in SINGLE_EXAMPLE
            else EXAMPLES[mode],
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers, checks=CHECKS, excluded_checks=excluded_checks(case), timeout=120
            )

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
            assert mode is GenerationMode.NEGATIVE
        # Collect every operation's failures, then report them together (a FailureGroup is no Exception).
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
