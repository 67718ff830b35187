from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

LOCAL_ACCOUNTS = [
    # username, password, staff
    ("demo", "demo-study-2026", False),
    ("admin", "admin-study-2026", True),
]


class Command(BaseCommand):
    help = (
        "Create the local demo learner and admin (staff) accounts for development. "
        "Refuses to run unless DEBUG is on; running it again resets their passwords."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("local accounts are for development only: set DEBUG=1")
        User = get_user_model()
        for username, password, staff in LOCAL_ACCOUNTS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = staff
            user.set_password(password)
            user.save()
            role = "admin (staff)" if staff else "demo learner"
            self.stdout.write(f"  {role:15} username {username!r}  password {password!r}")
