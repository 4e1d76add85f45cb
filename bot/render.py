"""What an answer says in words, and how it reads as plain text (the console and the CLI's "message")."""
from __future__ import annotations

from typing import Sequence

NO_ANSWER = ("I couldn't find an answer to that in our articles. Try asking in other words, for example with "
             "the name of a medicine. If you'd like to talk to someone now, the helpline below is free and "
             "confidential.")
EMPTY_QUESTION = "Please type your question, for example: can I take naltrexone while I'm still detoxing?"
GREETING = ("Hi. Ask me anything about addiction and its treatment, in your own words, for example: "
            "can I take naltrexone while I'm still detoxing?")
WELCOME = "You're welcome. Take care, and ask again any time."
HELP_LEAD = "You can talk to someone now: {helpline}. They can also help you find treatment near you."


def citation_label(title: str, section: str, excerpt: bool) -> str:
    label = f"{title} \u203a {section}" if section and section != title else title
    return label + (" (excerpt)" if excerpt else "")


def plain_message(lead: str, citations: Sequence, note: str, disclaimer: str, helpline: str) -> str:
    lines = [lead, ""] if lead else []
    if citations:
        lines += ["Here is what our articles say:", ""]
        for c in citations:
            lines.append(f"{c.rank}. {c.passage}")
            lines.append(f"   \u2014 {citation_label(c.title, c.section, c.excerpt)}")
            if c.link:
                lines.append(f"   {c.link}")
            lines.append("")
    else:
        lines += [note, ""]
    lines.append(disclaimer)
    lines.append(helpline)
    return "\n".join(lines)
