from django.urls import path

from checklists import views

urlpatterns = [
    path("releases/<int:release_id>/late/", views.late, name="late-work"),
    path(
        "releases/<int:release_id>/items/<int:item_id>/nudge",
        views.item_nudge,
        name="item-nudge",
    ),
    path(
        "releases/<int:release_id>/items/<int:item_id>/status",
        views.item_status,
        name="item-status",
    ),
    path(
        "releases/<int:release_id>/gates/<int:gate_id>/signoff", views.signoff, name="gate-signoff"
    ),
    path("releases/<int:release_id>/gates/<int:gate_id>/", views.gate_panel, name="gate-panel"),
    path("releases/<int:release_id>/gates/<int:gate_id>/decide", views.decide, name="gate-decide"),
    path(
        "releases/<int:release_id>/gates/<int:gate_id>/decisions/<int:decision_id>/vote",
        views.vote,
        name="gate-vote",
    ),
    path("releases/<int:release_id>/rollback/raise", views.rollback_raise, name="rollback-raise"),
    path(
        "releases/<int:release_id>/rollback/<int:call_id>/decide",
        views.rollback_decide,
        name="rollback-decide",
    ),
]
