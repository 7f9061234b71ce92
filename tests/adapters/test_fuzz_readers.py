"""Fuzzing of every reader, short and bounded: the seed corpus (fuzz/corpus/, real files, see
PROVENANCE.md there) replayed through every target, then hypothesis mutations of the seeds.
Longer coverage-guided runs: fuzz/README.md. Every finding is a regression test below.

The targets (fuzz/targets.py) check the invariants themselves: no exception but the
documented ones, records seen = events read + events skipped (total, per file, per reason),
and every output format safe for any content.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator

import pytest
from fuzz import targets
from hypothesis import HealthCheck, given, settings

from tests.support.hostile import CORPUS, REAL, mutated, seeds

SCALE = int(os.environ.get("PULLPATH_FUZZ_SCALE", "1") or "1")
"""``PULLPATH_FUZZ_SCALE=50 pytest tests/adapters/test_fuzz_readers.py``: 50 times the examples, with
a random seed (the default run is small and deterministic)."""
FUZZ = settings(max_examples=40 * SCALE, deadline=None, derandomize=SCALE == 1,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True, scope="module")
def _scratch() -> Iterator[None]:
    yield
    targets.cleanup()


@pytest.mark.parametrize("kind", ["logs", "servicetags", "inventory"])
def test_seed_corpus_under_every_target(kind: str) -> None:
    corpus = seeds(kind)
    assert corpus, f"fuzz/corpus/{kind} is empty: run python fuzz/make_corpus.py"
    for data in corpus:
        for target in targets.TARGETS.values():
            target(data)


def test_log_seeds_are_read_without_skips() -> None:
    """The seeds are real, valid files: they read whole (the truncated one by design not)."""
    for path in sorted((CORPUS / "logs").iterdir()):
        stats = targets.fuzz_logs(path.read_bytes(), render=False)
        assert stats.events_read > 0, path.name
        expected = {"truncated-line": 1} if "truncated" in path.name else {}
        assert dict(stats.skipped) == expected, path.name


@FUZZ
@given(mutated(seeds("logs")))
def test_fuzz_log_reader_and_outputs(data: bytes) -> None:
    targets.fuzz_logs(data)


@settings(FUZZ, max_examples=150 * SCALE)
@given(mutated(seeds("logs")))
def test_fuzz_log_reader_accounting(data: bytes) -> None:
    targets.fuzz_logs_read(data)


@settings(FUZZ, max_examples=150 * SCALE)
@given(mutated(seeds("logs")))
def test_fuzz_records(data: bytes) -> None:
    targets.fuzz_record(data)


@settings(FUZZ, max_examples=60 * SCALE)
@given(mutated(seeds("servicetags")))
def test_fuzz_service_tags(data: bytes) -> None:
    targets.fuzz_service_tags(data)


@settings(FUZZ, max_examples=80 * SCALE)
@given(mutated(seeds("inventory")))
def test_fuzz_inventory(data: bytes) -> None:
    targets.fuzz_inventory(data)


# --------------------------------------------------------------------------- regressions
# Each input below once crashed a reader or lost records; found by fuzz/run.py (atheris) or
# by the probing that led to this suite. The assertions say what happens now.

# atheris, target logs: a gzip member whose deflate data is damaged ("invalid distance too
# far back") raised zlib.error, which read_file did not catch: a traceback for the user.
DAMAGED_DEFLATE = bytes.fromhex(
    "1f8b0800000000000203ed52c18e9b3010bdf73338d7601b9390dc5242b34849880ca9d4de1c338958a518"
    "19b355bada7fef4092d51eda3defa1ef6090e7bde1cdf09e3d57ff046fee71ca05618cf0a86474cea279c8"
    "7c21388ba7f487f7d9d3cac1c9d80b3213d338553760259ceaced9cbda9cea267d82c675c8b4d099de6ac8"
    "2ae406c5fe4b91c86c5766f9b608d80d84234888200241a23708645ae47b99a42b99ef7745205764b75faf"
    "778bf2812cd34d1eec64fe2d5ba6b208365922f322ff5afa49be2d17d93695325d654529bf07b7972c2d82"
    "a188b44522d19e69c12a579b66abc6b947f3785f57e8bf76c38013353d72cd808803ab88d03320b323558"
    "457218863a42687a946c5d9e8b1112a1e55ab1a509dbbcedf9f5d796987ee0fceb58553aeef1253c16b75"
    "099db6757b53734ab152f5575f9b0eaf04f3c371ebe733d8ac5d54150ac780cfe2993f897d4ec379c4222"
    "1069ab116cea37adc7aa429508503500411c3110f07bd41b1e183ad1d76e16ac0becf380deea100fb0416"
    "3b68fcc7a6334a5b5ffdee2de0b336a8e93bb08b136e0a396381e87b1a48dd744e351aba80f9437f078d6"
    "adc6848dd400e08a211a442107803543cfebad2295377ab83e77838c47518c012501d792f2f9f9eff9e5dc"
    "1e674ead3591833c6ff67f7a3669772c6ff915df66e76d987ce2e7b37bbec9edd3f4a30532e78050000"
)


def test_regression_damaged_deflate_stream_is_counted() -> None:
    with pytest.raises(Exception, match="invalid distance"):
        gzip.decompress(DAMAGED_DEFLATE)
    stats = targets.fuzz_logs(DAMAGED_DEFLATE)
    assert stats.skipped["corrupt-compressed-file"] == 1


@pytest.mark.parametrize(
    "data",
    [
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"time":"0001-01-01T00:00:00+01:00"}\n',  # OverflowError in astimezone
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"repository":"a\\ud800b"}\n',  # lone surrogate into every output format
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"repository":"a\xff\xfeb"}\n',  # invalid UTF-8 byte: the record was lost
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"tag":' + b"9" * 5000 + b"}\n",  # an integer too long for str()
        b'{"category":"ContainerRegistryRepositoryEvents","operationName":"Pull",'
        b'"repository":"[link=http://evil.example]x[/link]"}\n',  # rich markup in a cell
    ],
    ids=["time-overflow", "lone-surrogate", "invalid-utf8", "huge-integer", "rich-markup"],
)
def test_regression_records_that_crashed_or_were_lost(data: bytes) -> None:
    stats = targets.fuzz_logs(data)
    assert stats.records_seen == 1


@pytest.mark.parametrize("last_line_alone", [False, True])
def test_regression_document_over_sniff_window(last_line_alone: bool) -> None:
    """A {"records": [...]} document over 64 KiB was cut at 64 KiB and refused whole; with
    one record per line inside, the last record line (no trailing comma) made it look like
    JSON lines."""
    record = REAL.read_bytes().strip()
    sep = b",\n" if last_line_alone else b", "
    data = b'{"records": [\n' + sep.join([record] * 200) + b"\n]}"
    assert len(data) > 64 * 1024
    stats = targets.fuzz_logs(data, render=False)
    assert stats.events_read == 200
    small = b'{"records": [\n' + b",\n".join([record] * 3) + b"\n]}\n"
    assert targets.fuzz_logs(small, render=False).events_read == 3
