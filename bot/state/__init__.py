"""What the bot keeps between messages."""
