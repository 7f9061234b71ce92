"""Every claim of the knowledge base is a verbatim quote of the page it cites, with that page's
date.

The cited pages are stored in the repository (``tests/data/docs``: Microsoft documentation,
``tests/data/docs/PROVENANCE.md`` lists URL, repository, path, commit and ``ms.date``;
``tests/data/issues``: the quoted posts of public issue threads). A ``documented`` source must
name a stored page, quote text that is in it and carry its ``ms.date`` as ``verified``; an
``issue`` source must quote a stored post and carry that post's date. A quote can therefore
never drift into a paraphrase, and a page that changes shows up as a failing quote when the
copy is refreshed.

Quotes and pages are compared after one normalisation (``normalise``; docs/knowledge.md says
the same in words): HTML comments and tags, blockquote markers (``>``) and admonition markers
(``[!NOTE]``) are dropped; markdown links and images keep only their text; emphasis and code
markers (``**``, ``__``, ``*``, backticks) are dropped; typographic quotes become straight
quotes; whitespace runs become one space. Matching is case-sensitive. A quote may leave out
text between two verbatim fragments with `` [...] ``: the fragments must appear in that order.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import pytest

from pullpath.domain.explain import KbSource, SourceKind
from pullpath.knowledge.loader import load_knowledge
from tests.support import TESTS

DATA = TESTS / "data"
DOCS = DATA / "docs"
ISSUES = DATA / "issues"
GAP = " [...] "

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_QUOTE_MARK = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
_ADMONITION = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|CAUTION|WARNING)\]")
_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_EMPHASIS = re.compile(r"\*\*|__|\*|`")
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """The form in which quotes and pages are compared (see the module docstring)."""
    text = _COMMENT.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _QUOTE_MARK.sub("", text)
    text = _ADMONITION.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = text.translate(_TYPOGRAPHIC)
    return " ".join(text.split())


def quoted_in(quote: str, page: str) -> bool:
    """Every fragment of the quote (split at `` [...] ``) is in the page, in order."""
    at = 0
    for fragment in normalise(quote).split(GAP.strip()):
        fragment = fragment.strip()
        if not fragment:
            return False
        found = page.find(fragment, at)
        if found < 0:
            return False
        at = found + len(fragment)
    return True


# ------------------------------------------------------------------ the stored pages


@lru_cache(maxsize=1)
def stored_pages() -> dict[str, tuple[Path, str]]:
    """url -> (local copy, ms.date as YYYY-MM-DD), from tests/data/docs/PROVENANCE.md."""
    out: dict[str, tuple[Path, str]] = {}
    for line in (DOCS / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[0].startswith("https://"):
            continue
        url, local, _repo, _path, _commit, ms_date = cells
        month, day, year = ms_date.split("/")
        out[url] = (DOCS / local.strip("`"), f"{year}-{month}-{day}")
    return out


@cache
def page_text(path: Path) -> str:
    return normalise(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def stored_posts() -> dict[str, list[tuple[str, str]]]:
    """issue url -> [(post date, normalised post text)], from tests/data/issues."""
    out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(ISSUES.glob("*.md")):
        if path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        url = re.search(r"^url: (\S+)$", text, re.M)
        assert url, f"{path.name}: no url in the front matter"
        parts = re.split(r"^## .+ · (?:description|comment) · (\d{4}-\d{2}-\d{2})$", text,
                         flags=re.M)
        posts = [(parts[i], normalise(parts[i + 1])) for i in range(1, len(parts) - 1, 2)]
        assert posts, f"{path.name}: no post"
        out[url.group(1)] = posts
    return out


def all_sources() -> list[tuple[str, KbSource]]:
    kb = load_knowledge()
    found: list[tuple[str, KbSource]] = [("pull_roles", s) for s in kb.pull_roles_sources]
    for b in kb.behaviours:
        found.extend((b.id, s) for s in b.sources)
    for f in kb.findings:
        found.extend((f.id, s) for s in f.sources)
    for c in kb.callers:
        found.extend((f"callers.{c.id}", s) for s in c.sources)
    return found


SOURCES = all_sources()


def _label(item: tuple[str, KbSource]) -> str:
    entry, source = item
    return f"{entry}:{source.url.rsplit('/', 1)[-1]}:{source.says[:24]}"


# ------------------------------------------------------------------ the checks


def _of(kind: SourceKind) -> object:
    return pytest.mark.parametrize("item", [s for s in SOURCES if s[1].kind is kind], ids=_label)


@_of(SourceKind.DOCUMENTED)
def test_documented_quote_is_in_its_stored_page(item: tuple[str, KbSource]) -> None:
    entry, source = item
    pages = stored_pages()
    assert source.url in pages, f"{entry}: {source.url} is not a stored page (PROVENANCE.md)"
    path, ms_date = pages[source.url]
    assert quoted_in(source.says, page_text(path)), \
        f"{entry}: not a verbatim quote of {path.name}: {source.says!r}"
    assert source.verified == ms_date, \
        f"{entry}: verified {source.verified}, but the page's ms.date is {ms_date}"


@_of(SourceKind.ISSUE)
def test_issue_quote_is_in_a_stored_post_of_that_date(item: tuple[str, KbSource]) -> None:
    entry, source = item
    posts = stored_posts()
    assert source.url in posts, f"{entry}: {source.url} is not stored in tests/data/issues"
    dates = [day for day, text in posts[source.url] if quoted_in(source.says, text)]
    assert dates, f"{entry}: not a verbatim quote of a stored post: {source.says!r}"
    assert source.verified in dates, \
        f"{entry}: verified {source.verified}, but the quoted post is of {', '.join(dates)}"


def test_every_stored_page_date_is_a_real_date() -> None:
    for url, (path, ms_date) in stored_pages().items():
        assert path.is_file(), url
        assert date.fromisoformat(ms_date) <= date.today(), url


def test_pull_roles_are_named_in_their_sources() -> None:
    """Every role GUID and name the knowledge base treats as pull-capable is in a quote."""
    kb = load_knowledge()
    quoted = " ".join(normalise(s.says) for s in kb.pull_roles_sources)
    for role in kb.pull_roles:
        assert role.id in quoted, role.name
        assert role.name in quoted, role.name


@pytest.mark.parametrize(("quote", "page", "expected"), [
    ("Use the `AcrPull` role", "Use the **`AcrPull`** role.", True),
    ("see the registry", "see [the registry](x.md)", True),
    ("first [...] third", "first, second, third", True),
    ("third [...] first", "first, second, third", False),
    ("it does not", "It does not", False),
    ("doesn't apply", "doesn\u2019t apply", True),
    ("Note this", "> [!NOTE]\n> Note\n> this", True),
])
def test_normalisation(quote: str, page: str, expected: bool) -> None:
    assert quoted_in(quote, normalise(page)) is expected
