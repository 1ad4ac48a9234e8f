"""SAP S/4HANA connector (OData V2): products, material stock, purchase orders."""
