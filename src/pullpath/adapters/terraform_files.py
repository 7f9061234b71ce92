"""Read a Terraform plan file (``terraform show -json`` output) and find each resource's block in
the ``.tf`` files, for :func:`pullpath.core.iac.terraform.read_terraform_plan`.

Locations come from a line scanner, not an HCL parser: it finds ``resource "<type>" "<name>"``
(and ``data "<type>" "<name>"``) block headers at the start of a line, outside comments and
heredocs, and follows the braces to the block's last line. python-hcl2 (8.1.4, checked
2026-12-06) was tried: its ``with_meta`` output gives no line for resource blocks, and the option
moved between major versions, so it would be a dependency that cannot do the one thing needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pullpath.core.iac.terraform import (
    PLAN_HINT,
    TerraformPlanError,
    check_plan_shape,
    parse_address,
    read_terraform_plan,
)
from pullpath.domain.iac import IacDocument, SourceLocation

__all__ = [
    "MAX_PLAN_BYTES",
    "TerraformPlanError",
    "TfLocator",
    "load_plan_json",
    "read_plan_file",
]

MAX_PLAN_BYTES: Final = 512 * 1024 * 1024
"""Largest plan file read (a plan of thousands of resources is tens of MB)."""
MAX_TF_BYTES: Final = 8 * 1024 * 1024
"""Largest ``.tf`` file scanned for block lines."""
MAX_TF_FILES: Final = 5000
MAX_MODULE_DEPTH: Final = 16

AZURERM_ENVIRONMENTS: Final = {"public": "public", "usgovernment": "usgov", "china": "china"}
"""The azurerm provider's ``environment`` ("Possible values are `public`, `usgovernment`,
`german`, and `china`", provider docs index.html.markdown) -> the knowledge base's cloud option;
``german`` (retired) has no registry suffix in the knowledge base: login servers stay unknown."""

_HEADER = re.compile(r'^(\s*)(resource|data)\s+"([^"\\]+)"\s+"([^"\\]+)"\s*(\{)?')
_HEREDOC = re.compile(r'<<-?\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*$')


def load_plan_json(path: Path) -> Mapping[str, Any]:
    """The decoded plan; :class:`TerraformPlanError` (one line, with what to run) when the file
    cannot be read or is not ``terraform show -json`` output of a plan."""
    try:
        size = path.stat().st_size
        if size > MAX_PLAN_BYTES:
            raise TerraformPlanError(
                f"{path}: {size // (1024 * 1024)} MB is larger than the "
                f"{MAX_PLAN_BYTES // (1024 * 1024)} MB a plan file may be")
        data = path.read_bytes()
    except TerraformPlanError:
        raise
    except IsADirectoryError:
        raise TerraformPlanError(f"{path}: a directory, not a plan file; {PLAN_HINT}") from None
    except OSError as exc:
        raise TerraformPlanError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if data.startswith(b"PK\x03\x04"):
        raise TerraformPlanError(
            f"{path}: a binary plan file (what `terraform plan -out` writes); convert it with "
            f"`terraform show -json {path.name} > plan.json` and give plan.json")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TerraformPlanError(f"{path}: not UTF-8 text, not a JSON plan; {PLAN_HINT}") from None
    try:
        plan = json.loads(text)
    except (ValueError, RecursionError):
        if re.search(r'^\s*(resource|terraform|provider|module|variable)\b[^\n]*\{', text, re.M):
            raise TerraformPlanError(
                f"{path}: Terraform configuration (HCL), not a plan; {PLAN_HINT}") from None
        raise TerraformPlanError(f"{path}: not JSON; {PLAN_HINT}") from None
    try:
        check_plan_shape(plan)
    except TerraformPlanError as exc:
        raise TerraformPlanError(f"{path}: {exc}") from None
    return plan  # type: ignore[no-any-return]  # check_plan_shape: a Mapping


@dataclass(frozen=True, slots=True)
class _Block:
    file: str
    line: int
    column: int
    end_line: int


def _mask_strings(line: str) -> str:
    """The line with what is inside ``"..."`` strings blanked (quotes kept), so comment marks
    and braces in strings (``"${var.x}"``, ``"a # b"``) are not taken for code."""
    out: list[str] = []
    in_str = escaped = False
    for ch in line:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
                out.append(ch)
                continue
            out.append(" ")
        else:
            in_str = ch == '"'
            out.append(ch)
    return "".join(out)


def _code(line: str) -> tuple[str, str, bool]:
    """(the line without comments, the same with strings blanked, whether a ``/*`` comment is
    left open at its end)."""
    masked = _mask_strings(line)
    while True:
        marks = [i for i in (masked.find("#"), masked.find("//"), masked.find("/*")) if i >= 0]
        if not marks:
            return line, masked, False
        i = min(marks)
        if not masked.startswith("/*", i):
            return line[:i], masked[:i], False
        end = masked.find("*/", i + 2)
        if end < 0:
            return line[:i], masked[:i], True
        blank = " " * (end + 2 - i)
        line, masked = line[:i] + blank + line[end + 2:], masked[:i] + blank + masked[end + 2:]


def scan_blocks(text: str, file: str) -> dict[tuple[str, str, str], _Block]:
    """``(resource|data, type, name)`` -> where the block is, for one ``.tf`` file's text: the
    header line and column, and the line of the brace that closes it (0 when none does)."""
    found: dict[tuple[str, str, str], _Block] = {}
    pending: tuple[tuple[str, str, str], int, int] | None = None
    depth = 0
    heredoc = ""
    in_comment = False
    for number, line in enumerate(text.splitlines(), start=1):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = ""
            continue
        if in_comment:
            end = line.find("*/")
            if end < 0:
                continue
            line = " " * (end + 2) + line[end + 2:]
            in_comment = False
        code, masked, in_comment = _code(line)
        if depth == 0:
            m = _HEADER.match(code)
            if m:
                pending = ((m.group(2), m.group(3), m.group(4)), number, len(m.group(1)) + 1)
        depth = max(depth + masked.count("{") - masked.count("}"), 0)
        doc = _HEREDOC.search(masked)
        if doc:
            heredoc = doc.group(1)
        if pending is not None and depth == 0:
            key, first, column = pending
            found.setdefault(key, _Block(file, first, column, number))
            pending = None
    if pending is not None:  # never closed: the header line is still right
        key, first, column = pending
        found.setdefault(key, _Block(file, first, column, 0))
    return found


def _shown(path: Path) -> str:
    return path.as_posix()


class TfLocator:
    """Finds the ``.tf`` block of a Terraform address: the plan's directory and ``tf_dirs`` are
    the root module; a module call's local ``source`` (``./modules/net``), relative to its
    caller's directory, or the directory ``terraform init`` recorded in
    ``.terraform/modules/modules.json``, is the module's."""

    def __init__(self, plan: Mapping[str, Any], roots: Sequence[Path]) -> None:
        self._dirs: dict[tuple[str, ...], list[Path]] = {(): list(dict.fromkeys(roots))}
        self._scanned: dict[Path, dict[tuple[str, str, str], _Block]] = {}
        self._files = 0
        cfg = plan.get("configuration")
        root = cfg.get("root_module") if isinstance(cfg, Mapping) else None
        self._add_calls(root, (), self._dirs[()])
        self._add_recorded(roots)

    def _add_calls(self, module: object, calls: tuple[str, ...], dirs: list[Path]) -> None:
        if not isinstance(module, Mapping) or len(calls) >= MAX_MODULE_DEPTH:
            return
        mcalls = module.get("module_calls")
        if not isinstance(mcalls, Mapping):
            return
        for name, call in mcalls.items():
            if not isinstance(name, str) or not isinstance(call, Mapping):
                continue
            source = call.get("source")
            child: list[Path] = []
            if isinstance(source, str) and source.startswith(("./", "../")):
                child = [Path(d, source) for d in dirs]
            key = (*calls, name)
            self._dirs.setdefault(key, []).extend(child)
            self._add_calls(call.get("module"), key, child)

    def _add_recorded(self, roots: Sequence[Path]) -> None:
        for root in roots:
            manifest = root / ".terraform" / "modules" / "modules.json"
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            entries = data.get("Modules") if isinstance(data, Mapping) else None
            for entry in entries if isinstance(entries, list) else ():
                if not isinstance(entry, Mapping):
                    continue
                key, folder = entry.get("Key"), entry.get("Dir")
                if isinstance(key, str) and key and isinstance(folder, str) and folder:
                    calls = tuple(key.split("."))
                    self._dirs.setdefault(calls, []).append(root / folder)

    def _blocks(self, folder: Path) -> dict[tuple[str, str, str], _Block]:
        cached = self._scanned.get(folder)
        if cached is not None:
            return cached
        blocks: dict[tuple[str, str, str], _Block] = {}
        try:
            files = sorted(p for p in folder.glob("*.tf") if p.is_file())
        except OSError:
            files = []
        for tf in files:
            if self._files >= MAX_TF_FILES:
                break
            self._files += 1
            try:
                if tf.stat().st_size > MAX_TF_BYTES:
                    continue
                text = tf.read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                continue
            for key, block in scan_blocks(text, _shown(tf)).items():
                if key in blocks:  # the same block in two files: Terraform refuses that
                    blocks[key] = _Block("", 0, 0, 0)
                else:
                    blocks[key] = block
        self._scanned[folder] = blocks
        return blocks

    def __call__(self, address: str) -> SourceLocation | None:
        addr = parse_address(address)
        if addr is None:
            return None
        key = ("data" if addr.mode == "data" else "resource", addr.type, addr.name)
        hits = {b for folder in dict.fromkeys(self._dirs.get(addr.calls, []))
                for b in (self._blocks(folder).get(key),) if b is not None}
        if len(hits) != 1:
            return None  # not found, or written in two places (which one is not known)
        block = hits.pop()
        if not block.file:
            return None
        return SourceLocation(file=block.file, line=block.line, column=block.column,
                              end_line=block.end_line, address=address)


def read_plan_file(path: Path, *, tf_dirs: Sequence[Path] = (),
                   subscription: str | None = None) -> IacDocument:
    """A Terraform plan file (``terraform show -json`` output) read into an
    :class:`~pullpath.domain.iac.IacDocument`, each resource located in the ``.tf`` files of
    the plan's directory, of ``tf_dirs`` and of the local modules the plan calls.

    Raises :class:`TerraformPlanError` (only) for a file that is not such a plan."""
    from pullpath.knowledge.clouds import cloud_by_option
    from pullpath.knowledge.loader import default_knowledge

    plan = load_plan_json(path)
    locator = TfLocator(plan, [path.parent, *tf_dirs])
    roles = {r.name: r.id for r in default_knowledge().pull_roles}
    suffixes = {env: cloud.registry_suffix for env, option in AZURERM_ENVIRONMENTS.items()
                if (cloud := cloud_by_option(option)) is not None}
    return read_terraform_plan(plan, path=_shown(path), locate=locator,
                               subscription=subscription, role_ids=roles,
                               registry_suffixes=suffixes)
