"""What the schemathesis tests check (stateless: test_schemathesis.py; stateful: test_schemathesis_stateful.py):
every built-in check, as `schemathesis run --checks all`, with the exceptions a JSON Schema cannot express."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import (
    CheckFunction,
    load_all_checks,
    negative_data_rejection,
    positive_data_acceptance,
)

load_all_checks()


def invalid_data_rejected(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``negative_data_rejection``, but not for an array or object given to a scalar query parameter: it reaches
    the server as the parameter repeated (FastAPI keeps its last value) or as other parameters (``a=1`` for
    ``{"a": 1}``), i.e. as valid or absent values."""
    if any(isinstance(value, (list, dict)) for value in (case.query or {}).values()):
        return None
    return negative_data_rejection(ctx, response, case)


# every built-in check (negative_data_rejection as above)
CHECKS: list[CheckFunction] = [c for c in REGISTRY.get_all() if c is not negative_data_rejection] + [
    invalid_data_rejected
]
# Schema-valid requests these operations still refuse (415/422) on rules a JSON Schema does not state.
BUSINESS_RULES = {
    ("POST", "/api/documents"): "the file's extension (not its declared type) and whether it reads as a plan",
    ("POST", "/api/draft"): "example plans must be in the store; a period's order and span",
    ("GET", "/api/records"): "kind: a code or its Vietnamese name (could be declared in records.py)",
    ("PATCH", "/api/documents/{doc_id}/metadata"): "a number starting with digits, a real date, letters in names",
}


def excluded_checks(case: schemathesis.Case) -> list[CheckFunction]:
    """``positive_data_acceptance`` for the operations with business rules."""
    key = (case.operation.method.upper(), case.operation.path)
    return [positive_data_acceptance] if key in BUSINESS_RULES else []
