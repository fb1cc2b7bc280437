"""salesbot application core: settings, database, shop, turn pipeline, replies, LINE sending."""
