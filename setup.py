"""Build of the compiled parts (``pullpath.core._archivescan``, the log scanner, and
``pullpath.formatters._flowjson``, the JSON report's flows writer); everything else about the
package is in pyproject.toml. The extensions are optional: without a C compiler pullpath still
installs, reads logs and writes reports the same way, only slower (``pullpath audit`` says so
for the scanner)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pullpath.core._archivescan",
            sources=["src/pullpath/core/_archivescan.c"],
            extra_compile_args=["-std=c11"],
            optional=True,
        ),
        Extension(
            "pullpath.formatters._flowjson",
            sources=["src/pullpath/formatters/_flowjson.c"],
            extra_compile_args=["-std=c11"],
            optional=True,
        ),
    ]
)
