"""Handlers of question plans, one per route, registered in ``HANDLERS`` (see ``base.handles``)."""

from assistant.qa.handlers import document, facts, lists, passages, plans  # noqa: F401 - registers the handlers
from assistant.qa.handlers.base import HANDLERS, Context, Result, Route, not_found

__all__ = ["HANDLERS", "Context", "Result", "Route", "not_found"]
