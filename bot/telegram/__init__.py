"""The Telegram side: python-telegram-bot lives only here. Handlers parse, call the core, render, send."""
