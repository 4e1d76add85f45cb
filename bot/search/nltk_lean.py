"""nltk, imported without the rest of nltk: only the tokenizers and stemmers this bot uses.

`import nltk` runs nltk/__init__.py, which imports nearly all of nltk (parsers, taggers, classifiers, corpus
readers, and SciPy and scikit-learn where installed): a third of a second to two seconds before a question
can be answered. The bot needs nltk.stem (Snowball, Porter) to answer, and nltk.tokenize.punkt to build,
which import what they need themselves. So unless nltk is already loaded, it is registered as a bare
package of its own folder, and `from nltk.stem.snowball import SnowballStemmer` loads those modules alone.
SciPy and scikit-learn count as absent while this happens. A later `import nltk` elsewhere in the process
gets the bare package (with whichever submodules were loaded); import nltk first to have all of it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types

_UNUSED = ("scipy", "sklearn")
_BARE = ("nltk", "nltk.stem", "nltk.tokenize", "nltk.corpus")  # their __init__ files import everything else


def _submodule(package: str):
    """A bare package's attributes are its submodules, imported when first asked for (PEP 562)."""
    import importlib

    def attribute(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(
                f"{package} has no {name!r} here: the bot loads nltk's modules one by one "
                f"(bot/search/nltk_lean.py); import nltk before the bot for all of it"
            ) from None

    return attribute


class _NoCorpus:
    def __getattr__(self, name):
        raise ImportError("nltk's corpora are not loaded in the bot (bot/search/nltk_lean.py): import nltk first")


_blocked = [name for name in _UNUSED if name not in sys.modules]
for _name in _blocked:
    sys.modules[_name] = None  # type: ignore[assignment]  # makes `import scipy` raise ImportError
try:
    if "nltk" not in sys.modules:
        _spec = importlib.util.find_spec("nltk")
        if _spec is None or not _spec.submodule_search_locations:
            raise ImportError("nltk is not installed")
        _root = list(_spec.submodule_search_locations)[0]
        for _package in _BARE:
            _bare = types.ModuleType(_package, f"{_package}, its modules loaded one by one (bot/search/nltk_lean.py)")
            _bare.__path__ = [_root + _package[len("nltk") :].replace(".", "/")]
            _bare.__spec__ = importlib.machinery.ModuleSpec(_package, None, is_package=True)
            _bare.__spec__.submodule_search_locations = _bare.__path__
            _bare.__getattr__ = _submodule(_package)  # type: ignore[attr-defined]  # `nltk.data` still works
            sys.modules[_package] = _bare
        # Snowball imports the stopword corpus for ignore_stopwords=True, which the analyzer never asks for
        sys.modules["nltk.corpus"].stopwords = _NoCorpus()  # type: ignore[attr-defined]
    import nltk.stem.porter  # noqa: F401
    import nltk.stem.snowball  # noqa: F401
finally:
    for _name in _blocked:
        if sys.modules.get(_name, 0) is None:
            del sys.modules[_name]
