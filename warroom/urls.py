from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from checklists import views as checklist_views
from deployments import controls as release_controls
from deployments import views as release_views
from deployments.runbooks import views as runbook_views
from warroom import views
from warroom.api import api

handler400 = "warroom.http.bad_request"
handler403 = "warroom.views.permission_denied"

urlpatterns = [
    path("", release_views.release_list, name="release-list"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("releases/<int:release_id>/", release_views.warroom, name="warroom"),
    path(
        "releases/<int:release_id>/controls.css",
        release_controls.controls_stylesheet,
        name="release-controls-css",
    ),
    path("releases/<int:release_id>/board/", release_views.board, name="board"),
    path(
        "releases/<int:release_id>/board/rotate",
        release_views.rotate_board_link,
        name="board-rotate",
    ),
    path("releases/<int:release_id>/sync", release_views.release_sync, name="release-sync"),
    path(
        "releases/<int:release_id>/items/<int:item_id>/status",
        release_views.item_status,
        name="item-status",
    ),
    path(
        "releases/<int:release_id>/gates/<int:gate_id>/signoff",
        checklist_views.signoff,
        name="gate-signoff",
    ),
    path(
        "releases/<int:release_id>/gates/<int:gate_id>/decide",
        checklist_views.decide,
        name="gate-decide",
    ),
    path(
        "releases/<int:release_id>/rollback/raise",
        checklist_views.rollback_raise,
        name="rollback-raise",
    ),
    path(
        "releases/<int:release_id>/rollback/<int:call_id>/decide",
        checklist_views.rollback_decide,
        name="rollback-decide",
    ),
    path("releases/<int:release_id>/export.md", runbook_views.export, name="runbook-export"),
    path("releases/<int:release_id>/reuse", runbook_views.clone, name="release-clone"),
    path("import/", runbook_views.import_runbook, name="runbook-import"),
    path("board/<str:token>/", release_views.board_link, name="board-link"),
    path("board/<str:token>/sync", release_views.board_link_sync, name="board-link-sync"),
]
