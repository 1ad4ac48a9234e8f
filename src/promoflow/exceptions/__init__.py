"""Exception cases: typed, owned, with actions an operator takes."""
