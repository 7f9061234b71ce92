"""Readers of infrastructure code (ARM templates, Bicep, Terraform plans) into
:class:`pullpath.domain.iac.IacDocument`. Pure: no I/O."""
