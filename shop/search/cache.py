"""One index per process, rebuilt when the catalogue changes (in this process or another)."""
from __future__ import annotations

import threading
import time

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from shop.models.catalog import Game, Product, ProductAlias
from shop.search.index import SearchIndex

_index: SearchIndex | None = None
_index_key: tuple | None = None
_generation = 0
_index_lock = threading.Lock()


def invalidate_index() -> None:
    """Called by the catalogue loader: the next search rebuilds the index."""
    global _generation
    _generation += 1


def _catalogue_changed(_mapper, _connection, _target) -> None:
    invalidate_index()


def _product_updated(_mapper, _connection, product: Product) -> None:
    """Stock changes do not rebuild the index (stock is read live at every search, and orders change it
    all the time); any other edit of a product does."""
    if any(attr.key != "stock" and attr.history.has_changes() for attr in inspect(product).attrs):
        invalidate_index()


# Only the catalogue's own tables are watched (mapper events), not every flush of every session.
for _model in (Product, ProductAlias, Game):
    for _change in ("after_insert", "after_delete"):
        event.listen(_model, _change, _catalogue_changed)
event.listen(ProductAlias, "after_update", _catalogue_changed)
event.listen(Game, "after_update", _catalogue_changed)
event.listen(Product, "after_update", _product_updated)


def _catalog_version(session: Session) -> tuple:
    row = session.execute(select(
        select(func.count(Product.id)).scalar_subquery(), select(func.max(Product.id)).scalar_subquery(),
        select(func.count(ProductAlias.id)).scalar_subquery(), select(func.max(ProductAlias.id)).scalar_subquery(),
        select(func.count(Game.id)).scalar_subquery(), select(func.max(Game.id)).scalar_subquery(),
        select(func.count(Product.id)).where(Product.active).scalar_subquery(),
        select(func.max(Product.revised_at)).scalar_subquery(),   # an edit in another process
    )).one()
    return (str(session.get_bind().engine.url), _generation, *row)


VERSION_CHECK_SECONDS = 2.0  # how stale an index may be after another process reloads the catalogue
_checked_at = 0.0


def get_index(session: Session) -> SearchIndex:
    """The index for this database, rebuilt when the catalogue changed: at once after a load in this
    process, within VERSION_CHECK_SECONDS after a load elsewhere (row counts and max ids change)."""
    global _index, _index_key, _checked_at
    url = str(session.get_bind().engine.url)
    fresh = _index is not None and _index_key is not None and _index_key[:2] == (url, _generation)
    if fresh and time.monotonic() - _checked_at < VERSION_CHECK_SECONDS:
        return _index
    key = _catalog_version(session)
    if _index is None or _index_key != key:
        with _index_lock:
            if _index is None or _index_key != key:
                _index = SearchIndex(session)
                _index_key = key
    _checked_at = time.monotonic()
    return _index


