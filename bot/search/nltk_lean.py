"""nltk, imported without the scientific stack it reaches for.

`import nltk` tries SciPy and scikit-learn for parts of it this bot never uses (collocation statistics, a
classifier wrapper); with the test or training extras installed that is 1.5 s of a 2 s import and puts
scikit-learn on the serving path. Imported first by every module that uses nltk: while nltk loads, those two
count as absent (unless already loaded); afterwards they import as usual.
"""
from __future__ import annotations

import sys

_UNUSED = ("scipy", "sklearn")

_blocked = [name for name in _UNUSED if name not in sys.modules]
for _name in _blocked:
    sys.modules[_name] = None  # type: ignore[assignment]  # makes `import scipy` raise ImportError
try:
    import nltk  # noqa: F401
finally:
    for _name in _blocked:
        if sys.modules.get(_name, 0) is None:
            del sys.modules[_name]
