from django.urls import path

from deployments import controls, runbook_views, views

urlpatterns = [
    path("", views.release_list, name="release-list"),
    path("releases/<int:release_id>/", views.warroom, name="warroom"),
    path(
        "releases/<int:release_id>/controls.css",
        controls.controls_stylesheet,
        name="release-controls-css",
    ),
    path("releases/<int:release_id>/board/", views.board, name="board"),
    path("releases/<int:release_id>/board/rotate", views.rotate_board_link, name="board-rotate"),
    path("releases/<int:release_id>/board/share", views.board_share, name="board-share"),
    path("releases/<int:release_id>/mine", views.my_next, name="my-next"),
    path("releases/<int:release_id>/sync", views.release_sync, name="release-sync"),
    path("releases/<int:release_id>/status-line", views.status_line, name="status-line"),
    path("releases/<int:release_id>/export.md", runbook_views.export, name="runbook-export"),
    path("releases/<int:release_id>/reuse", views.reuse, name="release-clone"),
    path("import/", runbook_views.import_runbook, name="runbook-import"),
    path("board/<str:token>/", views.board_link, name="board-link"),
    path("board/<str:token>/sync", views.board_link_sync, name="board-link-sync"),
]
