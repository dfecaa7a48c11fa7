# ruff: noqa: RUF001
"""Table-driven tests of the recognisers: one table per form."""

from datetime import timedelta

import pytest

from deployments.runbooks import recognise as r

D, H, M, W = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1), timedelta(weeks=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ ] Freeze the schema", ("Freeze the schema", False)),
        ("[x] Tag the build", ("Tag the build", True)),
        ("- [ ] Dash and box", ("Dash and box", False)),
        ("1. [ ] Numbered box", ("Numbered box", False)),
        ("☐ Ballot box", ("Ballot box", False)),
        ("□ White square", ("White square", False)),
        ("⬜ Large square", ("Large square", False)),
        ("✅ Green tick as a bullet", ("Green tick as a bullet", False)),
        ("✔ Heavy tick", ("Heavy tick", False)),
        ("☑ Ticked ballot", ("Ticked ballot", False)),
        ("Just prose", None),
        ("[ ]", None),
    ],
)
def test_task_markers(text, expected):
    task = r.task_marker(text)
    assert (task and (task.text, task.done)) == expected


def test_a_tick_is_done_only_when_the_document_uses_ticks_as_status():
    assert r.task_marker("✅ Shipped", marks_mean_done=True).done
    assert not r.task_marker("☐ Open", marks_mean_done=True).done


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Back up the database (Owner: DBA)", ("Back up the database", "DBA")),
        ("Back up the database (Verantwortlich: Betrieb)", ("Back up the database", "Betrieb")),
        ("Rotate keys — Alice", ("Rotate keys", "Alice")),
        ("Rotate keys – [Name]", ("Rotate keys", "[Name]")),
        ("Ping partners @maria", ("Ping partners", "@maria")),
        (
            "Check logs — see the dashboard for details.",
            ("Check logs — see the dashboard for details.", ""),
        ),
        ("Kiểm tra log (Người phụ trách: Lan)", ("Kiểm tra log", "Lan")),
        ("No owner here", ("No owner here", "")),
    ],
)
def test_owner_forms(text, expected):
    assert r.split_owner(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Owner: SRE", "SRE"),
        ("**Owner:** Platform team", "Platform team"),
        ("负责人：王伟", "王伟"),
        ("Verantwortlich: Betrieb", "Betrieb"),
        ("Ownership matters", None),
    ],
)
def test_owner_lines(text, expected):
    assert r.owner_line(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("___", True),
        ("[Name]", True),
        ("TBD", True),
        ("<name>", True),
        ("[FROM COMMAND 1]", True),
        ("待定", True),
        ("TBC", True),
        ("XXX", True),
        ("John Doe", True),
        ("@handle", True),
        ("@", True),
        ("(to be assigned)", True),
        ("to be confirmed", True),
        ("N.N.", True),
        ("noch offen", True),
        ("Max Mustermann", True),
        ("por asignar", True),
        ("(por definir)", True),
        ("a definir", True),
        ("Fulano de Tal", True),
        ("chưa phân công", True),
        ("Nguyễn Văn A", True),
        ("待分配", True),
        ("张三", True),
        ("未定", True),
        ("〇〇", True),
        ("уточнить", True),
        ("не назначен", True),
        ("ФИО", True),
        ("See PagerDuty", True),
        ("see on-call schedule", True),
        ("siehe Dienstplan", True),
        ("Ver PagerDuty", True),
        ("per PagerDuty schedule", True),
        ("PagerDuty", True),
        ("Opsgenie rotation", True),
        ("см. график дежурств", True),
        ("Seema Patel", False),
        ("Vera Lang", False),
        ("Checkout Team", False),
        ("Alice Chen", False),
        ("QA Lead", False),
        ("On-Call Rotation", False),
        ("Иванов И.И.", False),
        ("John Smith", False),
        ("Max", False),
    ],
)
def test_placeholders(text, expected):
    assert r.is_placeholder(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 weeks before", -4 * W),
        ("1 semana antes", -W),
        ("24 horas antes", -24 * H),
        ("30+ días antes", -30 * D),
        ("2 Wochen vor", -2 * W),
        ("3 dias depois", 3 * D),
        ("2 ngày trước", -2 * D),
        ("1週間前", -W),
        ("3日前", -3 * D),
        ("提前1天", -D),
        ("上线后2小时", None),
        ("за 1 день", -D),
        ("через 2 часа", None),
        ("2 часа после", 2 * H),
        ("Day -1", -D),
        ("Day 0", timedelta()),
        ("D-1", -D),
        ("D+1", D),
        ("Tag -2", -2 * D),
        ("Week -2", -2 * W),
        ("Woche -1", -W),
        ("Semana -1", -W),
        ("Неделя -1", -W),
        ("Week 0", timedelta()),
        ("[release date minus 14 days]", -14 * D),
        ("nothing here", None),
    ],
)
def test_relative_offsets(text, expected):
    found = r.relative_offset(text)
    assert (found.value if found else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("T-7 jours", "jours"),
        ("T-3x", "x"),
        ("T-7 ngày", None),
        ("T-2 Wochen", None),
        ("T-1 Tag", None),
        ("T-2 to T-1 hours", None),
        ("T-4 Final checks", "Final"),
        ("T-0 Go-Live", None),
    ],
)
def test_unknown_units_are_named(text, expected):
    assert r.unknown_unit(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Backend Lead: ____ Date: ____", "Backend Lead"),
        ("QA sign-off: [Name]", "QA"),
        ("Product Owner: ________", "Product Owner"),
        ("Deploy the app", None),
        ("Backend Lead: Alice", None),
    ],
)
def test_signer_lines(text, expected):
    assert r.signer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GO / NO-GO", True),
        ("[ ] GO  [ ] NO-GO", True),
        ("**GO** | **NO GO**", True),
        ("Decision: GO / NO-GO / CONDITIONAL GO", True),
        ("Go to the dashboard", False),
    ],
)
def test_decision_option_lines(text, expected):
    assert r.decision_options(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Decision maker: ___", ""),
        ("**Decision Maker:** VP Engineering", "VP Engineering"),
        ("决策人：CTO", "CTO"),
        ("Decide later", None),
    ],
)
def test_deciders(text, expected):
    assert r.decider(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On-call → Team lead → CTO", ["On-call", "Team lead", "CTO"]),
        ("L1 support -> L2 platform -> Head of Eng", ["L1 support", "L2 platform", "Head of Eng"]),
        ("Run the script", []),
    ],
)
def test_escalation_chains(text, expected):
    assert r.chain(text) == expected


def test_markup_is_stripped():
    assert r.strip_markup("Check <mark>payments</mark> <!-- todo --> flow") == "Check payments flow"


def test_front_matter_keeps_line_numbers():
    meta, text = r.front_matter("---\ntitle: Orbit 2.0 launch\nowner: ops\n---\n# Body\n")
    assert meta == {"title": "Orbit 2.0 launch", "owner": "ops"}
    assert text.split("\n")[4] == "# Body"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Launch time: 02:00 TST", ("", "02:00", 480)),
        ("**Go-live:** 2026-03-14 22:00 CET", ("2026-03-14", "22:00", 60)),
        ("Go-live: 2026-03-14T09:30 +05:30", ("2026-03-14", "09:30", 330)),
        ("上线时间：2026-05-01 20:00 CST", ("2026-05-01", "20:00", 480)),
        ("Дата перехода: 2026-03-14 22:00 MSK", ("2026-03-14", "22:00", 180)),
        ("Время запуска: 14.03.2026 в 22:00 MSK", ("2026-03-14", "22:00", 180)),
        ("Fecha de salida: sábado 21/03/2026 06:00 CET", ("2026-03-21", "06:00", 60)),
        ("Data de go-live: 07/03/2026 às 23:00 BRT", ("2026-03-07", "23:00", -180)),
        ("Go-Live-Termin: Samstag, 14.03.2026, 20:00 Uhr", ("2026-03-14", "20:00", None)),
        ("本番切替日時：2026年3月14日 22:00 JST", ("2026-03-14", "22:00", 540)),
        ("Thời gian go-live: 14/03/2026 22:00 ICT", ("2026-03-14", "22:00", 420)),
        ("Launch: 03/14/2026 22:00 EST", ("2026-03-14", "22:00", -300)),
        ("Go-live: 31/02/2026 22:00 UTC", ("", "22:00", 0)),
        ("No time here", None),
    ],
)
def test_stated_go_live(line, expected):
    found = r.stated_go_live([line])
    assert (found and (found.date, found.time, found.utc_offset_min)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Week before", (-W, W)),
        ("Launch day", (timedelta(), D)),
        ("Day 0 / Go-live night", (timedelta(), D)),
        ("Vorwoche", (-W, W)),
        ("Vortag", (-D, D)),
        ("Go-Live-Tag", (timedelta(), D)),
        ("Día del lanzamiento", (timedelta(), D)),
        ("Víspera", (-D, D)),
        ("Semana anterior", (-W, W)),
        ("Dia D", (timedelta(), D)),
        ("Ngày go-live", (timedelta(), D)),
        ("上线前一周", (-W, W)),
        ("上线当天", (timedelta(), D)),
        ("前日", (-D, D)),
        ("リリース当日", (timedelta(), D)),
        ("Накануне", (-D, D)),
        ("День запуска", (timedelta(), D)),
        ("День перехода", (timedelta(), D)),
        ("Ночь переключения", (timedelta(), D)),
        ("День релиза", (timedelta(), D)),
        ("Cutover day", (timedelta(), D)),
        ("Go-live night", (timedelta(), D)),
        ("Upgrade night", (timedelta(), D)),
        ("Maintenance window", (timedelta(), D)),
        ("Tag der Umstellung", (timedelta(), D)),
        ("Día del corte", (timedelta(), D)),
        ("Dia da virada", (timedelta(), D)),
        ("切替当日", (timedelta(), D)),
        ("上线当天", (timedelta(), D)),
        ("Ngày go-live", (timedelta(), D)),
        ("Day of cutover", (timedelta(), D)),
        ("Noche de salida", (timedelta(), D)),
        ("Go-live weekend", (timedelta(), 2 * D)),
        ("Umstellungswochenende", (timedelta(), 2 * D)),
        ("Day-After Review", None),
        ("Database", None),
    ],
)
def test_named_days(text, expected):
    assert r.named_day(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Error rate > 1% for 5 minutes → rollback", ("Error rate > 1% for 5 minutes", True)),
        ("p95 > 2 s -> roll back automatically", ("p95 > 2 s", True)),
        ("Fehlerrate > 5 % → Rollback", ("Fehlerrate > 5 %", True)),
        ("Tasa de errores > 5% → revertir", ("Tasa de errores > 5%", True)),
        ("Taxa de erros > 5% → reverter", ("Taxa de erros > 5%", True)),
        ("Tỷ lệ lỗi > 2% → hoàn tác", ("Tỷ lệ lỗi > 2%", True)),
        ("错误率 > 1% → 立即回滚", ("错误率 > 1%", True)),
        ("エラー率 > 2% → 切り戻し", ("エラー率 > 2%", True)),
        ("Доля ошибок > 3% → откат", ("Доля ошибок > 3%", True)),
        ("Disk usage > 80% → notify the DBA", ("Disk usage > 80%", False)),
        ("No arrow > 5%", None),
    ],
)
def test_threshold_actions(text, expected):
    split = r.threshold_action(text)
    assert (split and (split[0], r.says_rollback(split[1]))) == expected


def test_phrase_patterns_find_what_the_plain_word_list_finds(monkeypatch):
    """The vocabulary patterns share word prefixes ("roll(?:back|...)") for speed: over every
    line of the seeds and the corpus, and every word, upper-cased and pluralised, each finds
    exactly what the plain list of words ("rollback|roll back|...") finds."""
    import re
    from pathlib import Path

    from deployments.runbooks import vocab

    here = Path(__file__).parent
    lines = [
        ln
        for p in sorted(here.glob("seeds/*.md")) + sorted(here.glob("corpus/*.md"))
        for ln in p.read_text(encoding="utf-8").split("\n")
    ]
    names = ("ROLLBACK_PLAN", "ROLLBACK_TRIGGERS", "GATE", "TASK_HEADINGS", "ESCALATION")
    names += ("TASK_COLUMNS", "OWNER_COLUMNS", "WHEN_COLUMNS", "STATUS_COLUMNS")
    trees = {name: vocab.phrase_rx(getattr(vocab, name)) for name in names}
    monkeypatch.setattr(vocab, "_alternation", lambda words: "|".join(map(re.escape, words)))
    found = 0
    for name in names:
        words = getattr(vocab, name)
        tree, plain = trees[name], vocab.phrase_rx(words)
        assert tree.pattern != plain.pattern
        for text in [*lines, *words, *(w.upper() for w in words), *(w + "s" for w in words)]:
            assert bool(tree.search(text)) == bool(plain.search(text)), (name, text)
            found += bool(tree.search(text))
    assert found == 1938  # lines and words that name one of them


@pytest.mark.parametrize(
    ("written", "role", "expected"),
    [
        ("[Name]", "DBA", "[DBA: Name]"),
        ("TBD", "DBA", "[DBA: TBD]"),
        ("___", "DBA", "[DBA: ___]"),
        ("<name>", "SRE On-Call", "[SRE On-Call: name]"),
        ("", "DBA", "[DBA]"),
        ("Por asignar", "DBA de guardia", "[DBA de guardia: Por asignar]"),
        ("未定", "DBA担当", "[DBA担当: 未定]"),
        ("TBD", "", "[TBD]"),
        ("[Nombre del gestor]", "", "[Nombre del gestor]"),
        ("[DBA: TBD]", "", "[DBA: TBD]"),  # read back as export wrote it
        ("[x] [y]", "Ops [EU]", "[Ops (EU): x) (y]"),  # inner brackets would end it early
        ("", "", "[?]"),
    ],
)
def test_seat_names(written, role, expected):
    name = r.seat_name(written, role)
    assert name == expected
    assert r.is_placeholder(name)  # the seat it is kept under stays unfilled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Prose line", None),
        ("  indented prose", None),
        ("", None),
        ("١. [ ] Arabic-Indic numbered box", "Arabic-Indic numbered box"),
        ("  * [x] starred", "starred"),
        ("+ ☐ plus and ballot", "plus and ballot"),
        ("✅ tick first", "tick first"),
    ],
)
def test_task_markers_skip_lines_of_words_quickly_but_not_boxes(text, expected):
    task = r.task_marker(text)
    assert (task and task.text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On-call -> Team lead => CTO", True),
        ("On-call → Team lead", True),
        ("A ⇒ B", True),
        ("A ➜ B", True),
        ("A ➡️ B", True),
        ("Error rate > 5%", False),
        ("a - b = c", False),
        ("Übergabe an das Team", False),
    ],
)
def test_arrows_are_found_without_a_pattern(text, expected):
    assert r._has_arrow(text) is expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Step 1: Snapshot all indices", "Snapshot all indices"),
        ("1. Disable allocation", "Disable allocation"),
        ("Schritt 3: Dienste stoppen", "Dienste stoppen"),
        ("Paso 4 - Migrar datos", "Migrar datos"),
        ("Passo 2: Parar os jobs", "Parar os jobs"),
        ("Bước 5: Chuyển DNS", "Chuyển DNS"),
        ("步骤 6：切换流量", "切换流量"),
        ("第3步：验证", "验证"),
        ("手順 7: DNS切替", "DNS切替"),
        ("Шаг 8. Переключить DNS", "Переключить DNS"),
        ("Step 2", None),
        ("Stepping stones", None),
        ("1.2 Scope", None),
        ("Overview", None),
    ],
)
def test_step_headings(title, expected):
    assert r.step_heading(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Rollback", True),
        ("5. Rollback", True),
        ("🔙 Rollback", True),
        ("Откат", True),
        ("Rückfall", True),
        ("Reversão", True),
        ("Hoàn tác", True),
        ("回滚", True),
        ("切り戻し", True),
        ("Rollback plan", False),
        ("Rollback criteria", False),
        ("Откат базы данных", False),
    ],
)
def test_bare_rollback_headings(title, expected):
    assert r.rollback_bare(title) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cluster health green — @maria", ("Cluster health green", "@maria")),
        ("Backup DB - @ivan", ("Backup DB", "@ivan")),
        ("Announce the window – @tom", ("Announce the window", "@tom")),
        ("Check dashboards: @bob", ("Check dashboards", "@bob")),
        ("Rebuild index — Alice", ("Rebuild index", "Alice")),
        ("Re-run a-b tests @carol", ("Re-run a-b tests", "@carol")),
    ],
)
def test_owner_separators_are_dropped(text, expected):
    assert r.split_owner(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Error rate > 5%", ("Error rate", ">", 5.0, "%", None)),
        (
            "Недоступность платёжного шлюза более 2 минут",
            ("Недоступность платёжного шлюза", ">", 120.0, "s", None),
        ),
        ("Время ответа API свыше 800 ms", ("Время ответа API", ">", 800.0, "ms", None)),
        ("Fehlerrate über 5% für 10 Minuten", ("Fehlerrate", ">", 5.0, "%", 600)),
        ("Tasa de errores mayor a 3% durante 5 minutos", ("Tasa de errores", ">", 3.0, "%", 300)),
        ("Latencia p95 por encima de 800 ms", ("Latencia p95", ">", 800.0, "ms", None)),
        ("Taxa de erro acima de 2%", ("Taxa de erro", ">", 2.0, "%", None)),
        ("Tỷ lệ lỗi trên 5% trong 10 phút", ("Tỷ lệ lỗi", ">", 5.0, "%", 600)),
        ("错误率超过5%持续5分钟", ("错误率", ">", 5.0, "%", 300)),
        ("エラー率が5%を超える", ("エラー率", ">", 5.0, "%", None)),
        ("決済成功率が95%を下回る状態が5分継続", ("決済成功率", "<", 95.0, "%", 300)),
        ("Conversion drops below 40%", ("Conversion", "<", 40.0, "%", None)),
        ("Freier Speicher unter 10%", ("Freier Speicher", "<", 10.0, "%", None)),
        ("Конверсия менее 40%", ("Конверсия", "<", 40.0, "%", None)),
        (
            "Any service unavailable for more than 2 minutes",
            ("Any service unavailable", ">", 120.0, "s", None),
        ),
        ("Data corruption detected", None),
    ],
)
def test_rollback_criteria_in_every_language(text, expected):
    from deployments.runbooks.rollback import read_criterion

    c = read_criterion(text)
    got = c and (
        c.metric,
        c.comparison,
        c.threshold,
        c.unit,
        int(c.duration.total_seconds()) if c.duration else None,
    )
    assert got == expected
