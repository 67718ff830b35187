from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cards"

    def ready(self):
        from cards.services.stats import register_sqlite_functions

        # SQLite has no time zones: statistics group by study day through a Python function.
        connection_created.connect(register_sqlite_functions, dispatch_uid="studyapp_sqlite_fns")
