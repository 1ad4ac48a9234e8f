"""Read models of the web console's pages: built from the domain services and queries."""
