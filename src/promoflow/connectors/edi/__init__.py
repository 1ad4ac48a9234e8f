"""EDI with suppliers: X12 and EDIFACT interchanges over a drop folder per trading partner."""
