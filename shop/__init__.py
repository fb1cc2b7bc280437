"""The shop: its catalogue (products, BoardGameGeek games, aliases) and the one product search.

Use `from shop.search import search, SearchFilters, SearchHit`.
"""
