from __future__ import annotations

import logging

import pytest

from llmkit.guard import AGREEMENT, DataUseError, check_endpoint, host_is_private


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8011/v1",
        "http://localhost:8000/v1",
        "http://[::1]:8000/v1",
        "http://10.1.2.3/v1",
        "https://192.168.0.7:443/v1",
        "http://172.16.5.5/v1",
    ],
)
def test_loopback_and_private_endpoints_pass(url: str) -> None:
    check_endpoint(url)


@pytest.mark.parametrize("url", ["https://8.8.8.8/v1", "http://172.32.0.1/v1", "https://api.example.invalid/v1"])
def test_other_hosts_are_refused_by_default(url: str) -> None:
    with pytest.raises(DataUseError, match="Data Use Agreement"):
        check_endpoint(url)


def test_allow_remote_passes_with_a_warning_naming_the_agreement(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="llmkit.guard"):
        assert check_endpoint("https://8.8.8.8/v1", allow_remote=True) == "8.8.8.8"
    assert AGREEMENT in caplog.text


def test_not_a_url_is_refused() -> None:
    with pytest.raises(DataUseError, match="not an http"):
        check_endpoint("127.0.0.1:8000")
    assert not host_is_private("8.8.4.4")
