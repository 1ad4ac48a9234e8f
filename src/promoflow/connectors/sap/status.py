"""Whether an SAP product is active, inactive or discontinued for promoflow.

`A_Product.CrossPlantStatus` (MSTAE, values from the customer's table T141) says
for which business processes the material is blocked in every plant, and
`CrossPlantStatusValidityDate` from which day that holds (API_PRODUCT_SRV EDMX:
"Date from which the cross-plant material status is valid"). What a status blocks
is customising, so which statuses keep an item out of promotions is a setting of
the connection (`sales_blocking_statuses`). The default, `01`, is SAP's delivered
"Blocked for Procurement/Warehouse": an item that can be neither bought nor moved
cannot be replenished for a promotion. Any other status leaves the item active,
and a listed status counts only from its validity date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from promoflow.kit.errors import InvalidInput

DEFAULT_BLOCKING = "01"
STATUS_CODE_LENGTH = 2  # CrossPlantStatus is Edm.String MaxLength="2"


def blocking_statuses(setting: Any) -> frozenset[str]:
    """The `sales_blocking_statuses` setting (`01, Z1`) as a set of status codes."""
    codes = frozenset(c.strip().upper() for c in str(setting or "").split(",") if c.strip())
    for code in codes:
        if len(code) > STATUS_CODE_LENGTH:
            raise InvalidInput(
                "config.sales_blocking_statuses",
                code,
                "a cross-plant status is at most 2 characters (T141)",
            )
    return codes


@dataclass(frozen=True)
class StatusRule:
    """Which cross-plant statuses block an item, judged on `today`."""

    blocking: frozenset[str]
    today: date

    def status(self, product: Mapping[str, Any], valid_from: date | None) -> str:
        """`discontinued` if marked for deletion, `inactive` if a blocking status holds."""
        if product.get("IsMarkedForDeletion") is True:
            return "discontinued"
        code = str(product.get("CrossPlantStatus") or "").strip().upper()
        if code in self.blocking and (valid_from is None or valid_from <= self.today):
            return "inactive"
        return "active"
