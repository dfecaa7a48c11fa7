from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Releases and phases"

    def ready(self) -> None:
        from deployments.broadcast import PageFragments
        from warroom import live

        # The war room and board are this app's pages: it renders their live regions.
        live.use_fragments(PageFragments())
