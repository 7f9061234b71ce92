"""Type stubs of the compiled flows writer (``_flowjson.c``; see its header for what it takes)."""

from collections.abc import Callable, Sequence

from pullpath.domain.verdicts import Flow

def flows_json(
    flows: Sequence[Flow],
    tails_of: Callable[[list[Flow]], bytes],
    text_of: Callable[[str], str],
    prefix: bytes,
    suffix: bytes,
    /,
) -> bytes | None: ...
def tails_json(flows: Sequence[Flow], /) -> bytes | None: ...
