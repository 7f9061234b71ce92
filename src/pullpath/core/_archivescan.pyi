"""Type stubs of the compiled scanner (``_archivescan.c``; see its header for what it takes)."""

from datetime import datetime

MAX_VALUE: int

def mapped_keys() -> list[str]: ...
def utc_datetimes(micros: bytes | bytearray | memoryview, /) -> list[datetime | None]: ...

class Scanner:
    def __init__(self, max_groups: int, max_line: int, ask_octets: bytes) -> None: ...
    def scan(
        self, buffer: bytes | bytearray | memoryview, /
    ) -> tuple[
        int,
        bytes,
        list[tuple[int, bytes, int, int, int, int, str | None, str | None]],
        list[tuple[int, int, int]],
        int,
    ]: ...
    def set_host(self, address: int, drop_port: bool, /) -> None: ...
    def groups(self) -> tuple[bytes, bytes, bytes]: ...
    @property
    def group_count(self) -> int: ...
