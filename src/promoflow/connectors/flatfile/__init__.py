"""Flat files: a drop folder of CSV and Parquet files in and out."""
