"""Read an ARM deployment template file and its parameters file into an
:class:`~pullpath.domain.iac.IacDocument`.

The template is read by :func:`pullpath.core.iac.arm.read_arm_template`; this module does the
file part: size cap, UTF-8 (a BOM is accepted), JSON with the line and column of an error,
telling a template from what else a user may give (a parameters file, a Terraform plan, an
inventory export, a Bicep file), and the place of every resource in the file (the package
``json-source-map``). A resource's :class:`~pullpath.domain.iac.SourceLocation` is the line
and column (1-based, in characters) of the opening ``{`` of its object in the template, and
``end_line`` the line of its closing ``}``.

Every problem is an :class:`IacFileError`: one line naming the file (and line and column where
there is one), what is wrong and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from json_source_map import calculate

from pullpath.core.iac.arm import Locate, Reference, read_arm_template
from pullpath.core.inventory.documents import code_kind_of
from pullpath.domain.iac import DeploymentScope, IacDocument, IacKind, SourceLocation, unknown_value

__all__ = [
    "MAX_FILE_BYTES",
    "IacFileError",
    "code_kind",
    "read_bicep_file",
    "read_json_file",
    "read_parameters_file",
    "read_template_file",
    "read_text_file",
    "source_locator",
    "template_problem",
]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest template or parameters file read (64 MiB; compiled templates are far smaller)."""


class IacFileError(ValueError):
    """A template or parameters file that cannot be used: ``file[:line:col]: problem (hint)``."""

    def __init__(self, file: str, problem: str, hint: str = "", line: int = 0,
                 column: int = 0) -> None:
        self.file, self.problem, self.hint, self.line, self.column = (file, problem, hint, line,
                                                                      column)
        place = file + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{place}: {problem}" + (f" ({hint})" if hint else ""))


def _display(path: Path) -> str:
    return path.as_posix()


def read_text_file(path: Path, what: str) -> str:
    """The UTF-8 text (a BOM is accepted) of a file of at most :data:`MAX_FILE_BYTES`."""
    shown = _display(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise IacFileError(shown, f"cannot read the {what}: {e.strerror or e}",
                           "check the path") from None
    if path.is_dir():
        raise IacFileError(shown, f"is a directory, not a {what} file", "name the JSON file")
    if size > MAX_FILE_BYTES:
        raise IacFileError(shown, f"{size} bytes is more than the {MAX_FILE_BYTES // 2**20} MiB "
                           f"a {what} may have", "is it the right file?")
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as e:
        raise IacFileError(shown, f"cannot read the {what}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise IacFileError(shown, f"not UTF-8 text (byte {e.start})", "save the file as UTF-8",
                           line, column) from None
    return text


def read_json_file(path: Path, what: str) -> tuple[str, Any]:
    """(text, decoded JSON) of a file of at most :data:`MAX_FILE_BYTES`."""
    shown = _display(path)
    text = read_text_file(path, what)
    if path.suffix.lower() == ".bicep" or path.suffix.lower() == ".bicepparam":
        raise IacFileError(shown, f"a Bicep file, not a JSON {what}",
                           "compile it first: az bicep build --file "
                           f"{shown}" if path.suffix.lower() == ".bicep"
                           else f"compile it first: az bicep build-params --file {shown}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise IacFileError(shown, f"not JSON: {e.msg}", f"a {what} is a JSON document",
                           e.lineno, e.colno) from None
    except RecursionError:
        raise IacFileError(shown, "not readable: JSON nested too deeply") from None
    return text, data


def template_problem(data: Any) -> tuple[str, str]:
    """(what is wrong, what to do) when ``data`` is not an ARM deployment template; ("", "")
    when it is one."""
    if isinstance(data, list) or (isinstance(data, Mapping) and (
            isinstance(data.get("value"), list) or isinstance(data.get("data"), list))):
        return ("an inventory export (a list of resources), not a deployment template",
                "give it with --inventory")
    if not isinstance(data, Mapping):
        return "not a deployment template (not a JSON object)", "give the template's JSON file"
    schema = str(data.get("$schema", ""))
    if code_kind_of(data) is IacKind.TERRAFORM_PLAN:
        return ("a Terraform plan (terraform show -json), not an ARM template",
                "give it with --terraform-plan")
    if "deploymentparameters" in schema.lower() or (
            "resources" not in data and isinstance(data.get("parameters"), Mapping)
            and "contentVersion" in data):
        return ("a parameters file, not a deployment template",
                "give it with --parameters and the template with --template")
    if "resources" not in data:
        return ("not an ARM deployment template: it has no 'resources'",
                "give the template file (azuredeploy.json, or what az bicep build writes)")
    if schema and "deploymenttemplate" not in schema.lower():
        return (f"not an ARM deployment template: its $schema is {schema!r}",
                "give the template file (azuredeploy.json, or what az bicep build writes)")
    if not isinstance(data["resources"], list | Mapping):
        return "'resources' is neither an array nor an object", "fix the template"
    return "", ""


def source_locator(text: str, file: str) -> Locate:
    """``locate`` for :func:`read_arm_template`: the place of a JSON path in ``text`` (the
    opening ``{`` of the value; None when the path is not in the text)."""
    try:
        entries = calculate(text)
    except Exception:  # the package's own error types; the text was valid JSON for json
        entries = {}

    def locate(path: tuple[str | int, ...]) -> SourceLocation | None:
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
        entry = entries.get(pointer)
        if entry is None:
            return None
        start, end = entry.value_start, entry.value_end
        return SourceLocation(file=file, line=start.line + 1, column=start.column + 1,
                              end_line=end.line + 1)

    return locate


def read_parameters_file(path: Path) -> dict[str, Any]:
    """Parameter values of a deployment parameters file (``{"parameters": {"x": {"value":
    ...}}}``, the ``deploymentParameters.json`` schema), or of a plain ``{"x": value}`` object
    (no ``$schema``, ``contentVersion`` or ``parameters`` key: nothing else it could be). A Key
    Vault ``reference`` is a value not known before deployment."""
    shown = _display(path)
    _, data = read_json_file(path, "parameters file")
    if not isinstance(data, Mapping):
        raise IacFileError(shown, "a parameters file is a JSON object",
                           'write {"parameters": {"name": {"value": ...}}}')
    if "resources" in data:
        raise IacFileError(shown, "a deployment template, not a parameters file",
                           "give it with --template")
    wrapped = data.get("parameters")
    if isinstance(wrapped, Mapping):
        out: dict[str, Any] = {}
        for name, spec in wrapped.items():
            if isinstance(spec, Mapping) and "value" in spec:
                out[name] = spec["value"]
            elif isinstance(spec, Mapping) and "reference" in spec:
                secret = spec["reference"].get("secretName", "") if isinstance(
                    spec["reference"], Mapping) else ""
                out[name] = unknown_value(f"parameter {name} is the Key Vault secret "
                                          f"{secret or '(unnamed)'}, read at deployment")
            else:
                raise IacFileError(shown, f"parameter {name!r} has neither 'value' nor "
                                   "'reference'", 'write "name": {"value": ...}')
        return out
    if any(k in data for k in ("$schema", "contentVersion", "parameters")):
        raise IacFileError(shown, "not a deployment parameters file: no 'parameters' object",
                           'write {"parameters": {"name": {"value": ...}}}')
    return dict(data)


def read_template_file(path: Path, parameters_path: Path | None = None,
                       scope: DeploymentScope = DeploymentScope(),  # noqa: B008 - frozen
                       reference: Reference | None = None) -> IacDocument:
    """The template at ``path`` read with the values of ``parameters_path`` and deployed at
    ``scope``; ``reference`` gives existing resources by ID (from ``--inventory``). Raises
    :class:`IacFileError` for a file that is not a template or cannot be read."""
    shown = _display(path)
    text, data = read_json_file(path, "template")
    problem, hint = template_problem(data)
    if problem:
        raise IacFileError(shown, problem, hint)
    values = read_parameters_file(parameters_path) if parameters_path is not None else None
    return read_arm_template(data, path=shown, parameters=values, scope=scope,
                             locate=source_locator(text, shown), reference=reference,
                             kind=IacKind.ARM)


def read_bicep_file(path: Path, parameters_path: Path | None = None,
                    scope: DeploymentScope = DeploymentScope(),  # noqa: B008 - frozen
                    reference: Reference | None = None) -> IacDocument:
    """A ``.bicep`` file read directly: translated to the ARM template ``az bicep build`` would
    emit (:func:`pullpath.core.iac.bicep.bicep_to_template`), then read like one, each resource
    located at its ``resource`` line. Raises :class:`IacFileError` for a file that cannot be
    read and ``BicepError`` (with the ``az bicep build`` fallback) for one the grammar cannot
    parse."""
    from pullpath.core.iac.bicep import bicep_to_template

    shown = _display(path)
    template, locations, issues = bicep_to_template(read_text_file(path, "Bicep file"),
                                                    path=shown)
    values = read_parameters_file(parameters_path) if parameters_path is not None else None

    def locate(pointer: tuple[str | int, ...]) -> SourceLocation | None:
        return locations.get(tuple(pointer))

    doc = read_arm_template(template, path=shown, parameters=values, scope=scope,
                            locate=locate, reference=reference, kind=IacKind.BICEP)
    return replace(doc, issues=(*issues, *doc.issues))


def code_kind(path: Path) -> IacKind | None:
    """What a ``--baseline`` is: a ``.bicep`` file, an ARM template or a Terraform plan
    (``core.inventory.documents.code_kind_of``), or ``None`` for an inventory (a folder, or a
    file that is not code: the inventory reader then reads it and reports what is wrong)."""
    if path.is_dir():
        return None
    if path.suffix.lower() == ".bicep":
        return IacKind.BICEP
    try:
        return code_kind_of(read_json_file(path, "baseline")[1])
    except IacFileError:
        return None
