"""Template helpers: T-offsets and times the browser shows in the viewer's local zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils.html import format_html

from warroom import clock, events
from warroom.clock import format_offset

register = template.Library()


@register.filter
def toffset(value: timedelta | None) -> str:
    """``T-01:45`` for an offset from T0."""
    return format_offset(value)


@register.simple_tag
def at(release, offset: timedelta | None):
    """Absolute time of an offset from the release's T0."""
    return release.at(offset)


@register.simple_tag
def offset_of(release, moment: datetime | None):
    return None if moment is None else moment - release.go_live_at


@register.simple_tag
def localtime(moment: datetime | None, fmt: str = "time"):
    """A <time> the page's script rewrites into the viewer's local time (UTC until then)."""
    if moment is None:
        return ""
    text = (
        moment.strftime("%H:%M UTC") if fmt == "time" else moment.strftime("%a %d %b %Y %H:%M UTC")
    )
    return format_html(
        '<time datetime="{}" data-local="{}">{}</time>', moment.isoformat(), fmt, text
    )


@register.filter
def duration(value: timedelta | None) -> str:
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes:
        return f"{minutes // (24 * 60)}d"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h {minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


@register.filter
def elapsed(value: timedelta | None) -> str:
    """A running time to the second: ``0:32``, ``12:05``, ``1:02:03``."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@register.filter
def is_in(value, container) -> bool:
    return value in container


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def describe(event) -> str:
    """The timeline line for an audit event (as its kind declares it)."""
    return events.describe(event)


def countdown_text(left: timedelta, style: str = "") -> str:
    """What a countdown shows before the page's script takes over (same wording)."""
    seconds = int(left.total_seconds())
    if seconds <= 0 and style == "mmss":
        return f"overdue {-seconds // 60}:{-seconds % 60:02d}"
    if seconds <= 0:
        return "now"
    if style == "mmss":
        return f"{seconds // 60}:{seconds % 60:02d}"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


@register.simple_tag
def countdown(moment: datetime | None, style: str = "", tag: str = "span"):
    """A live countdown to ``moment``, rendered with the time left now."""
    if moment is None:
        return ""
    text = countdown_text(moment - clock.now(), style)
    return format_html(
        '<{} data-countdown="{}" data-countdown-style="{}">{}</{}>',
        tag,
        moment.isoformat(),
        style,
        text,
        tag,
    )


@register.filter
def minutes(value: timedelta | None) -> str:
    """``timedelta(minutes=15)`` -> ``"15 minutes"`` (for durations a person waits out)."""
    if value is None:
        return ""
    n = max(1, round(value.total_seconds() / 60))
    return f"{n} minute{'s' if n != 1 else ''}"


@register.simple_tag(takes_context=True)
def server_now(context) -> str:
    """The server's clock (``warroom.clock``), for the page to set its own clocks by. A page
    rendered for the cache puts a mark here instead, replaced on each request."""
    return context.get("server_now_mark") or clock.now().isoformat()
