"""Every ORM model, imported so the two metadata objects describe the whole database.

`metadata` is the production schema (the `core` migration branch); `demo_metadata`
holds the sandbox estate and the scenario generator's tables (the `demo` branch,
installed only by the demo, the sandbox systems and the tests). They are separate
`MetaData` objects, so the production one never carries a demo table.
"""

from promoflow.approvals import models as approvals_models
from promoflow.audit import models as audit_models
from promoflow.catalog import models as catalog_models
from promoflow.connectors.sandbox import models as sandbox_models
from promoflow.console import models as console_models
from promoflow.events import models as events_models
from promoflow.exceptions import models as exceptions_models
from promoflow.executors import Executor
from promoflow.forecasting import registry_models as forecasting_registry_models
from promoflow.gates import models as gates_models
from promoflow.idempotency import models as idempotency_models
from promoflow.identity import models as identity_models
from promoflow.integration import models as integration_models
from promoflow.inventory import models as inventory_models
from promoflow.kit.db import Base
from promoflow.promotions import models as promotions_models
from promoflow.publications import models as publications_models
from promoflow.recommendations import models as recommendations_models
from promoflow.scenario import models as scenario_models

metadata = Base.metadata
demo_metadata = sandbox_models.DemoBase.metadata

__all__ = [
    "Executor",
    "approvals_models",
    "audit_models",
    "catalog_models",
    "console_models",
    "demo_metadata",
    "events_models",
    "exceptions_models",
    "forecasting_registry_models",
    "gates_models",
    "idempotency_models",
    "identity_models",
    "integration_models",
    "inventory_models",
    "metadata",
    "promotions_models",
    "publications_models",
    "recommendations_models",
    "sandbox_models",
    "scenario_models",
]
