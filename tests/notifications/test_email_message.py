"""The email transport's MIME message, built for less CPU than Django's, reads back as
Django's own: the same headers, both parts with the same content, type and encoding,
and lines no longer than Django's."""

from __future__ import annotations

import email
import email.header
import email.policy
import html

import pytest
from django.core import mail
from django.core.mail import BadHeaderError
from hypothesis import given
from hypothesis import strategies as st

from notifications.render import Content
from notifications.transports.email import _Mail, encoded_words

LINK = "http://testserver/comms/unsubscribe/eyJyIjoxNywiZSI6InBtQG9yYml0LmV4YW1wbGUifQ:1xYOdZ:oDSMdqov3uitL3Zrmdss-GSwXP-FvIXbcX5Mb4rlFG4/"
UPDATE = "Status:\n- Phase: Deploy\n- Status: Yellow — 2 items overdue\n\nOpen issues:\n- None"

CASES = {
    "status update": ("Deployment status update — Orbit 2026.12.1", UPDATE, "pm@orbit.example"),
    "plain subject": ("Rollback notice", "Rolling back.", "pm@orbit.example"),
    "long subject": (" ".join(["Rollback notice"] * 8), "Rolling back.", "pm@orbit.example"),
    "long subject outside ASCII": ("Déploiement — état 😀 " * 9, UPDATE, "pm@orbit.example"),
    "subject in kanji": ("リリースの状況報告 " * 6, UPDATE, "pm@orbit.example"),
    "a line longer than SMTP allows": ("Update", "x" * 1200 + " é\n" + UPDATE, "pm@orbit.example"),
    "an address outside ASCII": ("Update", UPDATE, "dana@bücher.example"),
}


def build(cls, subject: str, text: str, to: str):
    m = cls(
        subject=subject,
        body=text + f"\n\n--\nStop these emails: {LINK}\n",
        from_email="Warroom <warroom@orbit.example>",
        to=[to],
        headers={
            "Message-ID": "<0123456789abcdef@orbit.example>",
            "List-Unsubscribe": f"<{LINK}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Warroom-Key": f"rule:1:at:1796135365|email|{to}"[:200],
            "X-Warroom-Attempt": "2",
            "X-Warroom-Resent": "after an interrupted attempt; same Message-ID",
        },
    )
    content = Content(subject, text)
    m.attach_alternative(
        f'{content.html}\n<hr><p><a href="{LINK}">Unsubscribe</a></p>', "text/html"
    )
    return m.message().as_bytes(linesep="\r\n")


def read(raw: bytes) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = [(k, str(v)) for k, v in msg.items() if k not in ("Date", "Content-Type")]
    parts = [
        (
            p.get_content_type(),
            p.get_content_charset(),
            p["Content-Transfer-Encoding"],
            p.get_content(),
        )
        for p in msg.iter_parts()
    ]
    return {
        "type": msg.get_content_type(),
        "headers": headers,
        "date": "Date" in msg,
        "parts": parts,
    }


@pytest.mark.parametrize("case", CASES)
def test_the_message_reads_back_as_djangos_own(settings, case):
    settings.EMAIL_USE_LOCALTIME = False
    ours, djangos = build(_Mail, *CASES[case]), build(mail.EmailMultiAlternatives, *CASES[case])
    assert read(ours) == read(djangos)
    assert read(ours)["type"] == "multipart/alternative" and len(read(ours)["parts"]) == 2
    for a, b in zip(ours.split(b"\r\n\r\n", 1), djangos.split(b"\r\n\r\n", 1), strict=True):
        assert longest(a) <= max(78, longest(b))  # a word longer than a line: one to itself


def longest(text: bytes) -> int:
    return max(len(line) for line in text.split(b"\r\n"))


def test_a_subject_with_a_newline_is_refused_as_django_refuses_it():
    m = _Mail(
        "Rollback\nBcc: everyone@orbit.example", "x", "warroom@orbit.example", ["pm@orbit.example"]
    )
    with pytest.raises(BadHeaderError):
        m.message()


@given(st.text())
def test_encoded_words_are_within_rfc_2047s_75_characters_and_read_back_as_the_text(text):
    words = encoded_words(text).split(" ")
    assert all(len(w) <= 75 for w in words)
    assert str(email.header.make_header(email.header.decode_header(" ".join(words)))) == text


@given(st.text(), st.text())
def test_the_html_part_is_each_paragraph_escaped_with_its_line_breaks(subject, text):
    expected = [f"<h2>{html.escape(subject)}</h2>"]
    for para in Content(subject, text).paragraphs:
        expected.append("<p>" + "<br>".join(html.escape(x) for x in para.split("\n")) + "</p>")
    assert Content(subject, text).html == "\n".join(expected)


def test_a_charset_other_than_utf_8_gets_djangos_own_message(settings):
    settings.DEFAULT_CHARSET = "iso-8859-1"
    case = ("Déploiement", "État: vert", "pm@orbit.example")
    assert read(build(_Mail, *case)) == read(build(mail.EmailMultiAlternatives, *case))
