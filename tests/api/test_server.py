"""`serve` defaults: loopback unless a host is given explicitly, keys or not."""

from __future__ import annotations

import logging

import pytest

from assistant.server import choose_host
from core.config import Settings


def test_without_keys_binds_loopback_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="assistant.server"):
        assert choose_host(Settings(api_keys=[], host=None)) == "127.0.0.1"
    assert "chỉ lắng nghe trên 127.0.0.1" in caplog.text


def test_keys_alone_do_not_open_the_server() -> None:
    assert choose_host(Settings(api_keys=["k"], host=None)) == "127.0.0.1"
    assert choose_host(Settings(api_keys=["k"], host=None), "0.0.0.0") == "0.0.0.0"


def test_explicit_or_configured_host_wins() -> None:
    assert choose_host(Settings(api_keys=[], host="10.0.0.5")) == "10.0.0.5"
    assert choose_host(Settings(api_keys=[], host="10.0.0.5"), "192.168.1.2") == "192.168.1.2"
