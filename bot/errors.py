"""The one error the bot raises about what it was given: a setting, an article, an index, a button.

Each says what is wrong and where, in one line fit for a person; the command line catches this one type,
in one place, and prints it without a traceback. Anything else is a bug and is logged as one.
"""

from __future__ import annotations


class BotError(Exception):
    """Bad input named: which setting, file, line or field, and what is wrong with it."""
