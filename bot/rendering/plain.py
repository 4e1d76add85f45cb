"""An answer as plain text: the console and the CLI's JSON "message". The Telegram HTML is bot/telegram/html.py."""

from __future__ import annotations

from typing import Sequence

SHOWING_RESULTS_FOR = "Showing results for: {question}"


def citation_label(title: str, section: str, excerpt: bool) -> str:
    label = f"{title} \u203a {section}" if section and section != title else title
    return label + (" (excerpt)" if excerpt else "")


def plain_message(
    lead: str,
    citations: Sequence,
    note: str,
    disclaimer: str,
    helpline: str,
    showing_results_for: str = "",
    related: str = "",
) -> str:
    lines = [lead, ""] if lead else []
    if showing_results_for:
        lines += [SHOWING_RESULTS_FOR.format(question=showing_results_for), ""]
    if citations:
        lines += [related or "Here is what our articles say:", ""]
        for c in citations:
            lines.append(f"{c.rank}. {c.passage}")
            lines.append(f"   \u2014 {citation_label(c.title, c.section, c.excerpt)}")
            if c.link:
                lines.append(f"   {c.link}")
            lines.append("")
    elif note:
        lines += [note, ""]
    lines.append(disclaimer)
    lines.append(helpline)
    return "\n".join(lines)
