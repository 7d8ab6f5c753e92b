from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from erp_sync.router import erp_alias


def _database_answers(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        connections[alias].close()
        return False


@login_not_required
@never_cache
def healthz(request):
    """Answers on any host. 503 only when the portal's own database is down.

    One round trip when the ERP's tables live in the portal's database: the same connection
    answering twice tells nothing more, and a load balancer asks many times a second.
    """
    db_ok = _database_answers("default")
    erp_ok = db_ok if erp_alias() == "default" else _database_answers(erp_alias())
    body = {"db": "ok" if db_ok else "down", "erp": "ok" if erp_ok else "down"}
    return JsonResponse(body, status=200 if db_ok else 503)
