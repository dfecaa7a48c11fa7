"""URLs: the core's own (health, login, admin, API), then each installed app's ``urls``."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from warroom import views
from warroom.api import api
from warroom.routing import app_modules

handler400 = "warroom.http.bad_request"
handler403 = "warroom.views.permission_denied"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.my_details, name="my-details"),
    path("me/notices/read", views.notices_read, name="notices-read"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    *[path("", include(module.__name__)) for module in app_modules("urls")],
]
