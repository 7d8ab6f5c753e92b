from django.conf import settings

ERP_APP_LABEL = "erp_sync"


def erp_alias() -> str:
    """The database alias of the ERP tables: `erp` when ERP_DATABASE_URL names another database."""
    return "erp" if "erp" in settings.DATABASES else "default"


def erp_is_portal_database() -> bool:
    """One database: the ERP write and the portal's records share one transaction."""
    return erp_alias() == "default"


class ErpRouter:
    """Send the ERP's unmanaged models to the ERP database; keep portal tables off it."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label == ERP_APP_LABEL and not model._meta.managed:
            return erp_alias()
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == "erp" and db != "default":
            return False
        return None
