"""What an answer says in words: the texts around the passages, kept apart from how they are laid out."""

from __future__ import annotations

from typing import Sequence

NO_ANSWER = (
    "I couldn't find an answer to that in our articles. Try asking in other words, for example with "
    "the name of a medicine. If you'd like to talk to someone now, the helpline below is free and "
    "confidential."
)
EMPTY_QUESTION = "Please type your question, for example: can I take naltrexone while I'm still detoxing?"
GREETING = (
    "Hi. Ask me anything about addiction and its treatment, in your own words, for example: "
    "can I take naltrexone while I'm still detoxing?"
)
ABOUT = (
    "I'm an automated helper, not a person: I search our articles about addiction and its treatment and "
    "quote what they say, each passage linked to its article. I can't give medical advice or know your "
    "situation. Ask in your own words, for example: can I take naltrexone while I'm still detoxing? "
    "To talk to a person now: {helpline}."
)
NOT_MENTIONED = (
    "Our articles don't mention {names}, so I can't answer this from them. If you'd like to talk to someone "
    "now, the helpline below is free and confidential."
)
RELATED = "Our articles don't say this about {asked}. This is what they say about {other}, which is not the same thing:"
RELATED_TOPICS = "Our articles don't say this about {asked}. This is the closest they come, about something else:"
WELCOME = "You're welcome. Take care, and ask again any time."
HELP_LEAD = "You can talk to someone now: {helpline}. They can also help you find treatment near you."
RELAPSE_LEAD = (
    "A relapse does not undo the progress you made, and many people have one on the way to recovery. "
    "If you used after a break, your tolerance is lower: don't use alone, use less, and keep naloxone "
    "(Narcan) close. You can talk to someone now: {helpline}."
)

# Emergencies: what to do now comes first, and both the emergency number and the crisis line are always
# there. Filled from the settings ({emergency}, {crisis_line}, {crisis_contact}, {helpline}).
EMERGENCY = {
    "overdose": (
        "This may be an overdose. Call {emergency} now.\n"
        "\u2022 Give naloxone (Narcan) if you have it. If there is no response after 2-3 minutes, give another dose.\n"
        "\u2022 Try to keep them awake and breathing. Lay them on their side so they don't choke.\n"
        "\u2022 Stay with them until help arrives.\n"
        "{crisis_line}: {crisis_contact}, also for a drug or alcohol crisis."
    ),
    "suicide": (
        "Please reach out now: {crisis_line}, {crisis_contact}. It is free, confidential and open 24/7.\n"
        "If you have taken something or are in danger right now, call {emergency}.\n"
        "You don't have to go through this alone."
    ),
    "withdrawal": (
        "A seizure, hallucinations or confusion during alcohol or benzodiazepine withdrawal is a medical "
        "emergency. Call {emergency} now.\n"
        "\u2022 During a seizure, move hard things away and put nothing in their mouth; afterwards lay them on their side.\n"
        "\u2022 Stay with them until help arrives.\n"
        "{crisis_line}: {crisis_contact}."
    ),
}
# Two kinds at once: steps safe for both, both numbers, one reply (kinds in order of urgency).
EMERGENCY_TOGETHER = {
    ("overdose", "withdrawal"): (
        "This may be an overdose or a withdrawal seizure. Call {emergency} now.\n"
        "\u2022 If they may have taken opioids and are breathing slowly or not at all, give naloxone (Narcan): it "
        "does no harm if they did not.\n"
        "\u2022 If they are seizing, move hard things away and put nothing in their mouth; afterwards lay them on "
        "their side.\n"
        "\u2022 Stay with them until help arrives.\n"
        "{crisis_line}: {crisis_contact}."
    ),
    ("overdose", "suicide"): (
        "This may be an overdose. Call {emergency} now, even if it was on purpose.\n"
        "\u2022 Give naloxone (Narcan) if you have it. If there is no response after 2-3 minutes, give another dose.\n"
        "\u2022 Lay them on their side so they don't choke, and stay with them until help arrives.\n"
        "\u2022 Put pills, weapons and anything else dangerous out of reach.\n"
        "{crisis_line}: {crisis_contact}, free, confidential and open 24/7. You don't have to go through this alone."
    ),
    ("withdrawal", "suicide"): (
        "Please get help now: call {emergency}. A seizure, hallucinations or confusion in withdrawal is a medical "
        "emergency.\n"
        "\u2022 During a seizure, move hard things away and put nothing in their mouth; afterwards lay them on their side.\n"
        "\u2022 Stay with them, and put pills, weapons and anything else dangerous out of reach.\n"
        "{crisis_line}: {crisis_contact}, free, confidential and open 24/7. You don't have to go through this alone."
    ),
}
CONCERN_LEAD = (
    "I'm sorry you're carrying this. You don't have to be alone with it: {crisis_line}, "
    "{crisis_contact}, any time, free and confidential. If you are in danger right now, call {emergency}."
)
CONCERN_NO_ANSWER = (
    "Our articles don't cover this, but the people at the lines above and below are there to "
    "listen and help, whatever you are going through."
)
LOST_TOLERANCE = (
    "Please be careful: after a break from using (detox, treatment, jail or prison, or naltrexone) your tolerance "
    "is much lower, and the amount you used before can kill you. If you use, don't use alone, start with much "
    "less and keep naloxone (Narcan) close. If someone can't be woken, call {emergency}."
)
SAFETY_NOTE = {
    "overdose": "If someone may be overdosing now, call {emergency} and give naloxone (Narcan) if you have it.",
    "suicide": "If you are thinking about suicide, {crisis_line}: {crisis_contact}, any time.",
    "withdrawal": (
        "Seizures, hallucinations or confusion in alcohol or benzodiazepine withdrawal are "
        "an emergency: call {emergency}."
    ),
}


def emergency_text(kinds: Sequence[str]) -> str:
    """The reply for the kinds that fit, most urgent first: one text with steps safe for all of them."""
    if len(kinds) > 2:  # all three: the overdose-and-seizure steps, which name the crisis line too
        return EMERGENCY_TOGETHER[("overdose", "withdrawal")] + "\nYou don't have to go through this alone."
    if len(kinds) == 2:
        return EMERGENCY_TOGETHER[(kinds[0], kinds[1])]
    return EMERGENCY[kinds[0]]
