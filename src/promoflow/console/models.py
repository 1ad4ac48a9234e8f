"""The console owns no table: it reads the domain packages' tables (see repository.py).

Its one schema change is migration 0014, indexes for the pages' searches.
"""
