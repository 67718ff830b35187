from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class CardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cards"

    def ready(self):
        from cards.services.stats import register_sqlite_functions

        # SQLite has no time zones: statistics group by study day through a Python function.
        connection_created.connect(register_sqlite_functions, dispatch_uid="studyapp_sqlite_fns")
        # A deleted deck or account takes the Anki note types left unused (services/deletion);
        # deleting an image's last row deletes its stored file (cards/services/media.py).
        import cards.services.deletion  # noqa: F401
        import cards.services.media  # noqa: F401

        # Card search folds case and accents; on SQLite that is a Python function (search/fold).
        from cards.search.fold import register_sqlite_fold
        from cards.search.schema import mend_sqlite_search

        connection_created.connect(register_sqlite_fold, dispatch_uid="studyapp_sqlite_fold")
        post_migrate.connect(mend_sqlite_search, sender=self, dispatch_uid="studyapp_search_mend")
