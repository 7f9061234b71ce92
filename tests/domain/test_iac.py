"""``domain.iac``: the marker of a value not known before deployment, and what it says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pullpath.core.inventory.fields import FieldReader, is_arm_expression
from pullpath.domain.iac import is_unknown_value, unknown_reason, unknown_value


@given(st.text())
def test_an_unknown_value_says_why_and_reads_as_absent(why: str) -> None:
    value = unknown_value(why)
    assert is_unknown_value(value)
    assert unknown_reason(value) == why
    assert is_arm_expression(value)  # every inventory reader already treats it as absent
    reader = FieldReader("main.tf", "/x", [])
    assert reader.text(value, "properties.subnetId") == ""
    (issue,) = reader.issues
    assert issue.problem == f"properties.subnetId is unknown before deployment ({why})"
