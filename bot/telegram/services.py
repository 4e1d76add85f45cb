"""What the handlers share, built once at start-up and kept in the application's bot_data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from telegram.ext import Application, ContextTypes

from bot.answering.answer import Answerer
from bot.answering.contacts import Contacts
from bot.config import Config
from bot.state.feedback import FeedbackStore
from bot.telegram.buttons import ButtonCodec
from bot.telegram.fairness import Turns


@dataclass
class Services:
    config: Config
    answerer: Answerer  # replaced whole on reload: read it once per update
    feedback: FeedbackStore
    buttons: ButtonCodec
    turns: Turns
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def contacts(self) -> Contacts:
        return self.answerer.settings.contacts


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def services_of(application: Application) -> Services:
    return application.bot_data["services"]
