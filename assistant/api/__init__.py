"""HTTP API of Plan Assistant (FastAPI): /api/*, OpenAI-compatible /v1/*, health checks."""

from assistant.api.app import create_app

__all__ = ["create_app"]
