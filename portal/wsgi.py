import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
# What start-up loaded (Django, WeasyPrint, the apps) lives as long as the process: keep it out
# of the cyclic collector's full scans, which otherwise walk ~120k objects (+80 ms to every
# few PDF renders; bench/README.md "PDF").
gc.freeze()
