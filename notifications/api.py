"""The notifications app's API. Escalation's endpoints live in ``escalation_api``."""

from __future__ import annotations

from ninja import Router

from notifications.escalation_api import router as escalation_router

router = Router()
router.add_router("", escalation_router)
