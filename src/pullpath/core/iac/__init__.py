"""Infrastructure code, read before deployment (pure): the ARM template expression evaluator
(:mod:`.armexpr`, shared with the lab), the ARM template reader (:mod:`.arm`) and what Azure
adds to resources on creation (:mod:`.platform`). See docs/iac.md."""
