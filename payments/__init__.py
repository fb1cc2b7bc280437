"""Payments: PromptPay payloads and QR images, slip QR reading, verification providers, the shop's checks."""
