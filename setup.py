"""Build of the compiled part (``pullpath.core._archivescan``, the log scanner); everything
else about the package is in pyproject.toml. The extension is optional: without a C compiler
pullpath still installs, reads logs and writes reports the same way, only slower (``pullpath
audit`` says so)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pullpath.core._archivescan",
            sources=["src/pullpath/core/_archivescan.c"],
            extra_compile_args=["-std=c11"],
            optional=True,
        ),
    ]
)
