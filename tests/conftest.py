from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# fixtures of the live Azure tests: loopback HTTPS servers, TLS certificate, Azurite
pytest_plugins = ("tests.support.live_server",)

ROOT = Path(__file__).resolve().parent.parent
# A user's clone has no data folder beside it (the developers' "shared" one): a test that opens,
# lists or scans it fails here, on every machine, rather than only on a fresh clone. The data a
# test needs is copied into tests/data with its provenance.
_OUTSIDE = str(ROOT.parent / "shared")


def _refuse_shared(event: str, args: tuple[object, ...]) -> None:
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str | Path):
        target = os.path.abspath(os.fspath(args[0]))
        if target == _OUTSIDE or target.startswith(_OUTSIDE + os.sep):
            raise PermissionError(f"tests must not read outside the repository: {target}")


sys.addaudithook(_refuse_shared)

@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the compiled service-tag cache out of the user's home during tests."""
    cache = tmp_path_factory.getbasetemp() / "pullpath-cache"
    monkeypatch.setenv("PULLPATH_CACHE_DIR", str(cache))
