"""What the bot says about itself, as Telegram HTML. Only settings and counts go in, all escaped."""

from __future__ import annotations

from bot.answering.contacts import Contacts
from bot.telegram.html import escape, footer

NOT_TEXT = "I can only read text messages. Please type your question in words."
ERROR = (
    "Sorry, something went wrong on my side and I could not answer. Please try again in a moment. "
    "If you need to talk to someone now, call the helpline below."
)
BUTTON_ERROR = "Sorry, something went wrong on my side. Please try again."
STALE_BUTTON = "This button no longer works. Please ask your question again."
QUESTION_GONE = "I can't see the question this answer was for any more. Please ask it again."
NO_MORE = "That was everything I found for this question."
THANKS = "Thank you, that helps us improve the answers."
ALREADY_VOTED = "You have already told us about this answer. Thank you."
VOTE_NOT_SAVED = "Thank you. Your vote could not be saved just now; please try again in a minute."
BUSY = {
    "waiting": "One moment \u2014 I'm still answering your earlier messages. Please send this one again "
    "once their answers have arrived.",
    "per_minute": "One moment \u2014 you have sent me many messages in the last minute. Please wait a "
    "minute, then send this one again.",
}
BUSY_BUTTON = "One moment \u2014 I'm still answering your earlier messages. Please press it again shortly."
UNKNOWN_COMMAND = "I don't know that command. Type your question, or see /help."
LONG_NOTE = "Your message was long, so I searched with its first {limit:,} characters."

COMMANDS = {
    "start": "What this bot is",
    "help": "How to ask",
    "helpline": "Talk to someone now",
    "about": "The articles behind the answers",
    "privacy": "What is kept",
}


def _footer(c: Contacts) -> str:
    return footer(c.disclaimer, str(c.helpline))


def start(c: Contacts) -> str:
    return (
        "<b>Hi. I answer questions about addiction and its treatment</b>: opioids, naltrexone, methadone, "
        "buprenorphine, withdrawal, relapse, and where to get help.\n\n"
        "Type a question in your own words, for example <i>can I take naltrexone while I'm still "
        "detoxing?</i> I reply with passages from our articles, each linked to its source.\n\n"
        "<b>What I can't do:</b> I am not a doctor or a counsellor, I don't know your situation, and I "
        f"can't call anyone for you. In an emergency, call {escape(c.emergency_number)}; if you are thinking "
        f"about suicide, {escape(c.crisis_line)}: {escape(c.crisis_contact)}.\n\n" + _footer(c)
    )


def help_text(c: Contacts) -> str:
    return (
        "<b>How to ask</b>\n"
        "Write a question as you would say it: <i>how long does withdrawal last</i>, <i>is methadone "
        "better than naltrexone</i>. Names of medicines help.\n\n"
        "Under an answer, <b>More</b> shows the next passages; 👍 / 👎 tell us if it helped.\n"
        "In any chat, type my @name and a question to share a passage.\n\n"
        "/helpline \u2014 talk to someone now\n/about \u2014 the articles I use\n/privacy \u2014 what I keep\n\n"
        + _footer(c)
    )


def helpline_text(c: Contacts) -> str:
    return (
        "<b>Talk to someone now</b>\n"
        f"{escape(str(c.helpline))}\n\n"
        f"<b>In an emergency</b> (an overdose, a seizure, someone in danger): call {escape(c.emergency_number)}.\n"
        f"<b>If you are thinking about suicide</b>: {escape(c.crisis_line)}, {escape(c.crisis_contact)}.\n\n"
        + _footer(c)
    )


def about(articles: int, chunks: int, built_at: str, c: Contacts, site: tuple[str, str, int] | None = None) -> str:
    """`site`: (address, when it was last read, its articles), for a corpus crawled from a site."""
    read = ""
    if site:
        when = site[1].replace("T", " ").replace("+00:00", " UTC")
        read = f"The site {escape(site[0])} was last read {escape(when)}: {site[2]:,} articles.\n"
    return (
        f"I answer from <b>{articles:,}</b> articles ({chunks:,} passages), indexed {escape(built_at)}.\n"
        + read
        + "Every answer quotes the articles word for word and links to them; I write nothing of my own.\n\n"
        + _footer(c)
    )


def privacy(c: Contacts) -> str:
    return (
        "<b>What I keep</b>\n"
        "\u2022 Your questions are not stored. They are used to search, then forgotten.\n"
        "\u2022 When you press 👍 or 👎, I add one to a count for each article in that answer and one for the "
        "answer (which passages it quoted). The counts have no user id, no chat id and no text. So that "
        "an answer is counted once, a one-way code of it (which cannot be turned back into your chat) is "
        "kept for 8 days.\n"
        "\u2022 My logs record that a question was answered and how long it took, never what it said or "
        "who sent it.\n"
        "\u2022 Buttons under an answer carry only which passages were shown, signed so they can't be faked.\n"
        "Telegram itself keeps your chat history as it does for any chat.\n\n" + _footer(c)
    )


def busy(reason: str, c: Contacts) -> str:
    """Past a chat's limits: wait, send it again; and, since this one goes unanswered, the emergency number."""
    return f"{escape(BUSY[reason])}\n\nIf this is an emergency, call {escape(c.emergency_number)} now.\n\n" + _footer(c)


def plain(text: str, c: Contacts) -> str:
    return f"{escape(text)}\n\n{_footer(c)}"


def toast(text: str, c: Contacts) -> str:
    """A button's pop-up (at most 200 characters): the message, the disclaimer's gist, the helpline."""
    gist = c.disclaimer.split(". ")[0].rstrip(".") + "."
    return f"{text}\n{gist}\n{c.helpline.short()}"[:200]
