from __future__ import annotations

import pytest

# fixtures of the live Azure tests: loopback HTTPS servers, TLS certificate, Azurite
pytest_plugins = ("tests.support.live_server",)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the compiled service-tag cache out of the user's home during tests."""
    cache = tmp_path_factory.getbasetemp() / "pullpath-cache"
    monkeypatch.setenv("PULLPATH_CACHE_DIR", str(cache))
