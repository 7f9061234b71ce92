"""Infrastructure code (ARM templates, Bicep, Terraform plans) -> IacDocument.

Pure: the readers take decoded documents, never files; :mod:`pullpath.adapters` reads them.
"""
