"""Infrastructure code, read before deployment -> :class:`pullpath.domain.iac.IacDocument`.

Pure: the readers take decoded documents or text, never files (:mod:`pullpath.adapters` reads
them). The ARM template expression evaluator (:mod:`.armexpr`, shared with the lab; its
function library :mod:`.armfunctions`, their shared values :mod:`.armvalues`), the ARM
template reader (:mod:`.arm`), what Azure adds to resources on creation (:mod:`.platform`),
Bicep translated to an ARM template (:mod:`.bicep`, reading the syntax in :mod:`.bicep_ast`,
writing expressions in :mod:`.bicep_expr`) and Terraform plans (:mod:`.terraform`).
See docs/iac.md, docs/bicep.md and docs/terraform.md.
"""
