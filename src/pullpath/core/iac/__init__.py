"""Infrastructure code, read before deployment -> :class:`pullpath.domain.iac.IacDocument`.

Pure: the readers take decoded documents or text, never files (:mod:`pullpath.adapters` reads
them). The ARM template expression evaluator (:mod:`.armexpr`, shared with the lab), the ARM
template reader (:mod:`.arm`), what Azure adds to resources on creation (:mod:`.platform`),
Bicep translated to an ARM template (:mod:`.bicep`) and Terraform plans (:mod:`.terraform`).
See docs/iac.md, docs/bicep.md and docs/terraform.md.
"""
