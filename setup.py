"""The compiled BM25 kernel (bot/search/_kernel.c), the analyzer's word lookup (bot/search/_words.c) and the
sentence splitter's loops (bot/search/_punkt.c): built at install time, optional.

Everything else is in pyproject.toml. A machine without a C compiler still installs: the search then uses
its numpy path and the analyzer and splitter their Python ones, which give the same results (tests/test_kernel.py and
tests/test_analysis.py and tests/test_chunking.py hold them equal), only slower.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A failed compile is a warning, not a failed install."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # noqa: BLE001 (no compiler, no Python headers: the numpy path serves)
            self.warn(f"the BM25 kernel was not compiled ({e}); search falls back to numpy")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001
            self.warn(f"the BM25 kernel was not compiled ({e}); search falls back to numpy")


setup(
    ext_modules=[
        Extension("bot.search._kernel", ["bot/search/_kernel.c"], extra_compile_args=["-O3"]),
        Extension("bot.search._words", ["bot/search/_words.c"], extra_compile_args=["-O3"]),
        Extension("bot.search._punkt", ["bot/search/_punkt.c"], extra_compile_args=["-O3"]),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
