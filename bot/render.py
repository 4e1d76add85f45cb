"""How an answer reads as plain text (the console and the CLI's "message")."""
from __future__ import annotations

from typing import Sequence

NO_ANSWER = ("I couldn't find anything in our articles that answers this. Try other words, such as a "
             "medicine's name or what is happening.")
EMPTY_QUESTION = "Please type your question, for example: can I take naltrexone while I'm still detoxing?"


def citation_label(title: str, section: str, excerpt: bool) -> str:
    label = f"{title} \u203a {section}" if section and section != title else title
    return label + (" (excerpt)" if excerpt else "")


def plain_message(citations: Sequence, disclaimer: str, helpline: str, empty: bool = False) -> str:
    if citations:
        lines = ["Here is what our articles say:", ""]
        for c in citations:
            lines.append(f"{c.rank}. {c.passage}")
            lines.append(f"   \u2014 {citation_label(c.title, c.section, c.excerpt)}")
            if c.link:
                lines.append(f"   {c.link}")
            lines.append("")
    else:
        lines = [EMPTY_QUESTION if empty else NO_ANSWER, "If you need to talk to someone now, call the helpline below.", ""]
    lines.append(disclaimer)
    lines.append(helpline)
    return "\n".join(lines)
