from django.urls import path

from deployments import controls, engine_views, issue_views, runbook_views, views

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
    path("releases/<int:release_id>/issues/", issue_views.issue_list, name="issues"),
    path(
        "releases/<int:release_id>/issues/<int:issue_id>/<str:verb>",
        issue_views.issue_answer,
        name="issue-answer",
    ),
    path("import/", runbook_views.import_runbook, name="runbook-import"),
    path("releases/<int:release_id>/steps/attach", engine_views.attach, name="step-attach"),
    path("releases/<int:release_id>/steps/shape", engine_views.insert_shape, name="step-shape"),
    path(
        "releases/<int:release_id>/steps/<int:step_id>/up", engine_views.move_up, name="step-move"
    ),
    path(
        "releases/<int:release_id>/steps/<int:step_id>/run", engine_views.run_step, name="step-run"
    ),
    path(
        "releases/<int:release_id>/phases/<int:phase_id>/run",
        engine_views.run_phase,
        name="phase-run",
    ),
    path(
        "releases/<int:release_id>/runs/<int:run_id>/confirm",
        engine_views.confirm,
        name="run-confirm",
    ),
    path("releases/<int:release_id>/runs/<int:run_id>/skip", engine_views.skip, name="run-skip"),
    path("releases/<int:release_id>/close", engine_views.close, name="release-close"),
    path(
        "releases/<int:release_id>/pipeline-tokens",
        engine_views.token_create,
        name="pipeline-token-create",
    ),
    path(
        "releases/<int:release_id>/pipeline-tokens/<int:token_id>/revoke",
        engine_views.token_revoke,
        name="pipeline-token-revoke",
    ),
    path(
        "releases/<int:release_id>/steps/<str:action>",
        engine_views.steer,
        name="steps-steer",
    ),
    path("board/<str:token>/", views.board_link, name="board-link"),
    path("board/<str:token>/sync", views.board_link_sync, name="board-link-sync"),
]
