"""Type stubs of the compiled scanner (``_archivescan.c``; see its header for what it takes)."""

from datetime import datetime
from typing import Any

News = tuple[int, int, int, int, int, str | None, str | None, int, str | None]
"""(gid, template_id, line, start, end, identity, caller, family_id, description)"""

MAX_VALUE: int

def mapped_keys() -> list[str]: ...
def utc_datetimes(micros: bytes | bytearray | memoryview, /) -> list[datetime | None]: ...
def resolve_known(
    news: list[News],
    keys: list[Any],
    templates: list[Any],
    callers: dict[str | None, str],
    identities: dict[str | None, str],
    group_key: type[tuple[str, ...]],
    fresh: list[Any],
    /,
) -> list[News]: ...

class Catalog:
    def __init__(self) -> None: ...
    @property
    def group_count(self) -> int: ...
    @property
    def template_count(self) -> int: ...
    def resolved(self, news: list[News], /) -> None: ...

class Scanner:
    def __init__(
        self, max_groups: int, max_line: int, ask_octets: bytes, catalog: Catalog | None = None
    ) -> None: ...
    def scan(
        self, buffer: bytes | bytearray | memoryview, /
    ) -> tuple[
        int,
        bytes,
        list[News],
        list[tuple[int, int, int]],
        int,
    ]: ...
    def set_host(self, address: int, drop_port: bool, /) -> None: ...
    def set_duplicates(self, seen: bytes | None, collect: bool, /) -> None: ...
    def fingerprints(self) -> bytes: ...
    def groups(self) -> tuple[bytes, bytes, bytes, bytes]: ...
    @property
    def group_count(self) -> int: ...
