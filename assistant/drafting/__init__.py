"""Drafting new commune plans from the example plans (issue 7)."""

from assistant.drafting.model import Draft, DraftInputError, DraftRequest
from assistant.drafting.service import DraftService, ExampleSection

__all__ = ["Draft", "DraftInputError", "DraftRequest", "DraftService", "ExampleSection"]
