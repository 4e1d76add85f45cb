"""Answers as plain text (the console, the JSON `message`): no Telegram here."""
