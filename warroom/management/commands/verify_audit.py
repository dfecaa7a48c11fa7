from django.core.management.base import BaseCommand, CommandError

from warroom.audit import release_model, verify_chain


class Command(BaseCommand):
    help = (
        "Recompute each release's audit hash chain. Exits non-zero naming the first bad "
        "sequence number when a row was changed or removed outside the application."
    )

    def add_arguments(self, parser):
        parser.add_argument("--release", type=int, help="Only this release id.")

    def handle(self, *args, release: int | None = None, **options):
        releases = release_model().objects.order_by("pk")
        if release is not None:
            releases = releases.filter(pk=release)
            if not releases.exists():
                raise CommandError(f"no release {release}")
        bad = []
        for r in releases:
            problem = verify_chain(r.pk)
            if problem is None:
                self.stdout.write(f"release {r.pk} ({r}): {r.last_seq} events, chain intact")
            else:
                bad.append(
                    f"release {r.pk}: first bad sequence number {problem.seq}: {problem.message}"
                )
        if bad:
            raise CommandError("\n".join(bad))
