from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from warroom.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user called {username!r}")
        _, token = ApiToken.issue(user, name=name)
        self.stdout.write(token)
