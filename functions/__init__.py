"""Lambda entry points, one per privilege boundary: thin, alike, nothing built at import."""
