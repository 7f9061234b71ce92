"""Build of the compiled scanner (``pullpath.core._archivescan``); everything else about the
package is in pyproject.toml. The extension is optional: without a C compiler pullpath still
installs and reads logs the same way, only slower (``pullpath audit`` says so)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pullpath.core._archivescan",
            sources=["src/pullpath/core/_archivescan.c"],
            extra_compile_args=["-std=c11"],
            optional=True,
        )
    ]
)
