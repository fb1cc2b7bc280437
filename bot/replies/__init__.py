"""Reply builders: LINE message objects (plain JSON dicts in Messaging API shape) for the bot's answers."""
