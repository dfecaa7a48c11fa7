from django.core.management.base import BaseCommand, CommandError

from deployments import services
from deployments.models import Release


class Command(BaseCommand):
    help = "Print a release as a markdown runbook (times relative to T0)."

    def add_arguments(self, parser):
        parser.add_argument("release_id", type=int)

    def handle(self, *args, release_id: int, **options):
        release = Release.objects.filter(pk=release_id).first()
        if release is None:
            raise CommandError(f"no release {release_id}", returncode=2)
        self.stdout.write(services.release_export(release=release), ending="")
