"""A local stand-in for the LINE platform: chat page, Messaging API endpoints, simulated bank."""
