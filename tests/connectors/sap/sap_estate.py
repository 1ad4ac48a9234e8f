"""The small SAP estate the connector tests run against: products, stock rows, POs."""

from __future__ import annotations

from typing import Any

from sap_support import stock_row


def _product(number: str, name: str, group: str, changed_ms: int, **fields: Any) -> dict[str, Any]:
    return {
        "Product": number,
        "ProductType": "HAWA",
        "ProductGroup": group,
        "Division": "01",
        "ProductHierarchy": "",
        "Brand": "",
        "CrossPlantStatus": "",
        "IsMarkedForDeletion": False,
        "ProductStandardID": "",
        "BaseUnit": "PC",
        "LastChangeDateTime": f"/Date({changed_ms}+0000)/",
        "to_Description": {
            "results": [
                {"Product": number, "Language": "DE", "ProductDescription": f"{name} (de)"},
                {"Product": number, "Language": "EN", "ProductDescription": name},
            ]
        },
        "to_Valuation": {
            "results": [
                {
                    "Product": number,
                    "ValuationArea": "1010",
                    "ValuationType": "",
                    "PriceDeterminationControl": "S",
                    "StandardPrice": "12.500",
                    "MovingAveragePrice": "0.000",
                    "PriceUnitQty": "10",
                    "Currency": "EUR",
                }
            ]
        },
        **fields,
    }


JAN_2026 = 1767225600000  # 2026-01-01T00:00:00Z in ms
DAY = 86_400_000

PRODUCTS = [
    _product("TG11", "Trading Good 11", "L001", JAN_2026, ProductStandardID="4006381333931"),
    _product("TG12", "Trading Good 12", "L001", JAN_2026 + 10 * DAY),
    _product("TG13", "Blocked Good 13", "L002", JAN_2026 + 20 * DAY, CrossPlantStatus="01"),
    _product("TG14", "Deleted Good 14", "L002", JAN_2026 + 30 * DAY, IsMarkedForDeletion=True),
    _product("TG15", "Trading Good 15", "L003", JAN_2026 + 40 * DAY),
    _product("TG16", "Trading Good 16", "L003", JAN_2026 + 50 * DAY),
]

STOCK = [
    stock_row("TG11", "1010", "0001", "100.000"),
    stock_row("TG11", "1010", "0001", "20.000", batch="B1"),
    stock_row("TG11", "1010", "0001", "7.000", stock_type="07"),  # blocked: not counted
    stock_row("TG11", "1020", "0001", "15.000"),
    stock_row("TG11", "1020", "0002", "4.000"),
    stock_row("TG11", "1020", "0001", "6.000", stock_type="06"),
    stock_row("TG11", "1030", "0001", "999.000"),  # a plant that is not ours
    stock_row("TG12", "1010", "0001", "8.500"),
    stock_row("TG12", "1020", "0001", "3.000"),
    stock_row("TG13", "1010", "0001", "1.000"),
    stock_row("TG15", "1010", "0001", "40.000"),
    stock_row("TG15", "1010", "0003", "2.000"),
    stock_row("TG16", "1020", "0001", "9.000"),
]


def _order(number: str, reference: str, lines: list[tuple[str, str, str]], **fields: Any) -> Any:
    return {
        "PurchaseOrder": number,
        "CompanyCode": "1010",
        "PurchaseOrderType": "NB",
        "Supplier": "17300001",
        "PurchasingDocumentDeletionCode": "",
        "CorrespncInternalReference": reference,
        "CorrespncExternalReference": "",
        "LastChangeDateTime": f"/Date({JAN_2026 + 3 * DAY}+0000)/",
        "to_PurchaseOrderItem": {
            "results": [
                {
                    "PurchaseOrder": number,
                    "PurchaseOrderItem": str(10 * (i + 1)),
                    "Material": sku,
                    "Plant": "1010",
                    "OrderQuantity": ordered,
                    "PurchasingDocumentDeletionCode": "",
                    "to_ScheduleLine": {
                        "results": [
                            {
                                "PurchasingDocument": number,
                                "PurchasingDocumentItem": str(10 * (i + 1)),
                                "ScheduleLine": "1",
                                "ScheduleLineOrderQuantity": ordered,
                                "ScheduleLineCommittedQuantity": committed,
                            }
                        ]
                    },
                }
                for i, (sku, ordered, committed) in enumerate(lines)
            ]
        },
        **fields,
    }


ORDERS = [
    _order("4500000001", "PO-ACK", [("TG11", "10", "10"), ("TG12", "5", "5")]),
    _order("4500000002", "PO-PART", [("TG11", "10", "6"), ("TG12", "5", "0")]),
    _order("4500000003", "PO-OPEN", [("TG11", "10", "0")]),
    _order("4500000004", "PO-REJ", [("TG11", "10", "0")], PurchasingDocumentDeletionCode="L"),
]

ESTATE = {
    "API_PRODUCT_SRV": {"A_Product": PRODUCTS},
    "API_MATERIAL_STOCK_SRV": {"A_MatlStkInAcctMod": STOCK},
    "API_PURCHASEORDER_PROCESS_SRV": {"A_PurchaseOrder": ORDERS},
}
