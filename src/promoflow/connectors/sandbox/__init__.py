"""The sandbox retail estate: in-process ERP, WMS, POS, e-commerce and suppliers."""
