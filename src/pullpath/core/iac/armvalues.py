"""The values of the ARM template expression language (pure: no I/O, no environment).

What :mod:`pullpath.core.iac.armexpr` (the language: parser, evaluation, dispatch) and
:mod:`pullpath.core.iac.armfunctions` (the library of template functions) share: what an
expression can see (:class:`ArmContext`), a value known only at deployment (:class:`Unknown`,
:class:`RuntimeView`), the error of an unreadable expression, and ARM's reading of a value as
text or as a boolean. Import these names from :mod:`pullpath.core.iac.armexpr`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ArmExpressionError(ValueError):
    """An expression the evaluator cannot read or evaluate, with the expression in the text."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value not known before deployment."""

    why: str


class RuntimeView(dict[str, Any]):
    """An object whose missing properties are known only at deployment (what ``reference()``
    and ``environment()`` return): reading one gives :class:`Unknown`, not an error."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.label = label


ReferenceFn = Callable[[str], Mapping[str, Any]]


@dataclass
class ArmContext:
    """What an expression can see: parameter values, variables, where it is deployed."""

    subscription: str
    resource_group: str
    location: str
    parameters: Mapping[str, Any]
    variables: Mapping[str, Any] = field(default_factory=dict)
    reference: Callable[..., Any] | None = None
    """Returns the runtime properties of a resource (``reference(id)``); called with the
    resource ID and, when the template asks for it, ``full=True``."""
    trace: list[tuple[str, str]] = field(default_factory=list)
    """(function, resource id) for every ``resourceId``/``reference`` call evaluated."""
    lenient: bool = False
    """True: an expression that cannot be evaluated becomes an issue and :class:`Unknown`."""
    issues: list[str] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)
    """One line per stand-in value computed (``uniqueString``, ``guid``, the deployment name)."""
    where: str = ""
    """The place being evaluated (a resource's address), for issues."""
    level: str = "resourceGroup"
    """The deployment's scope: ``resourceGroup``, ``subscription``, ``managementGroup`` or
    ``tenant`` (what ``resourceId()`` builds)."""
    deployment_name: str | Unknown = ""
    deployment_note: str = ""
    """Named in :attr:`standins` when ``deployment()`` is read (its name is a stand-in)."""
    copy_index: dict[str, int] = field(default_factory=dict)
    """Current loop indexes: "" for the resource's own ``copy``, else the loop name."""
    functions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """User-defined functions (the template's ``functions``): ``namespace.name`` in lower
    case -> its member definition (``parameters``, ``output``)."""
    resource_info: Callable[[str], Any] | None = None
    """``resourceInfo(symbolicName)``: the id, name, type and apiVersion of a resource."""
    lambda_vars: dict[str, Any] = field(default_factory=dict)
    _var_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _var_busy: set[str] = field(default_factory=set, repr=False)

    def fail(self, message: str) -> Unknown:
        """An expression that cannot be evaluated: raise (strict) or record it (lenient)."""
        if not self.lenient:
            raise ArmExpressionError(message)
        text = f"{self.where}: {message}" if self.where else message
        if text not in self.issues:
            self.issues.append(text)
        return Unknown(f"not evaluated: {message}")


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ArmExpressionError(f"{value!r} is not a boolean")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
