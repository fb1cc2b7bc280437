"""The shop: its catalogue (products, BoardGameGeek games, aliases) and the one product search.

Use `from bot.shop.search import search, SearchFilters, SearchHit` (the package does not re-export
`search`, so that `bot.shop.search` always names the module).
"""
