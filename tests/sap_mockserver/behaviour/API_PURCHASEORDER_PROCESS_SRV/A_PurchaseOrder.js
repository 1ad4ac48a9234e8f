// A_PurchaseOrder as S/4HANA treats a DELETE, where the mock server alone would drop
// the row. The service's own metadata (API_PURCHASEORDER_PROCESS_SRV.edmx,
// Capabilities.DeleteRestrictions on A_PurchaseOrder) says the delete "Deletes all
// items of a purchase order that has been posted", and SAP purchasing never removes
// a posted document: deleting sets each item's deletion indicator
// (PurchasingDocumentDeletionCode "L", as ME22N does) and the order stays readable.
// The mock server keeps deep-inserted items inside their order's row, so the
// indicator is set there.
'use strict';

module.exports = {
  async removeEntry(keyValues, odataRequest) {
    const [order] = await this.base.fetchEntries(keyValues, odataRequest);
    if (!order) return;
    const items = (order.to_PurchaseOrderItem && order.to_PurchaseOrderItem.results) || [];
    for (const item of items) item.PurchasingDocumentDeletionCode = 'L';
    await this.base.updateEntry(keyValues, { to_PurchaseOrderItem: { results: items } }, odataRequest);
  },
};
