"""Services: the only layer that mixes db.session with domain code."""
