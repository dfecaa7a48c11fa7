"""German words the importer understands."""

UNITS = {
    "wochen": "w",
    "woche": "w",
    "tagen": "d",
    "tage": "d",
    "tag": "d",
    "stunden": "h",
    "stunde": "h",
    "std": "h",
    "minuten": "m",
    "minute": "m",
    "min": "m",
}
BEFORE = ("vor", "vorher", "davor")
AFTER = ("nach", "danach", "später")
DAY_WORDS = ("tag",)
MINUS = ("minus",)
PLUS = ("plus",)
GATE = ("freigabe", "abnahme", "go/no-go", "entscheidung", "genehmigung")
ROLLBACK_TRIGGERS = (
    "rollback-kriterien",
    "rollback kriterien",
    "rollback-auslöser",
    "auslöser für rollback",
    "abbruchkriterien",
    "rückfallkriterien",
)
ROLLBACK_PLAN = (
    "rollback-plan",
    "rollback-verfahren",
    "rollback verfahren",
    "rückfallplan",
    "rückfallverfahren",
    "rollback-schritte",
)
TASK_HEADINGS = ("aufgaben", "schritte", "checkliste", "vorgehen", "ablauf", "maßnahmen")
OWNER_COLUMNS = ("verantwortlich", "verantwortlicher", "zuständig", "owner")
TASK_COLUMNS = ("aufgabe", "schritt", "tätigkeit", "maßnahme", "prüfung")
ACTIVITY_COLUMNS = ("tätigkeit", "tätigkeiten", "aktivität", "aktivitäten")
WHEN_COLUMNS = ("wann", "zeitpunkt", "fällig", "termin", "zeit")
STATUS_COLUMNS = ("status", "erledigt")
SIGNATURE_COLUMNS = ("unterschrift", "freigegeben")
TEAMS = ("betrieb", "entwicklung", "support", "qa", "sicherheit", "datenbank")
CONTACTS = ("kontakte", "ansprechpartner", "eskalation", "bereitschaft")
COLUMNS = {
    "metrik": "metric",
    "kennzahl": "metric",
    "schwellwert": "threshold",
    "schwelle": "threshold",
    "grenzwert": "threshold",
    "maßnahme": "action",
    "aktion": "action",
    "reaktion": "action",
    "rolle": "role",
    "name": "name",
    "telefon": "phone",
    "e-mail": "email",
    "unterschrift": "signature",
    "datum": "date",
    "vertretung": "backup",
}
ESCALATION = ("eskalation", "eskalationspfad")
WEEK_WORDS = ("woche", "kw")
NAMED_DAYS = {
    "go-live-wochenende": (0, 2),
    "umstellungswochenende": (0, 2),
    "tag der umstellung": (0, 1),
    "nacht der umstellung": (0, 1),
    "tag des go-live": (0, 1),
    "go-live-termin": (0, 1),
    "umzugstag": (0, 1),
    "migrationstag": (0, 1),
    "migrationsnacht": (0, 1),
    "wartungsfenster": (0, 1),
    "release-tag": (0, 1),
    "release-nacht": (0, 1),
    "vorwoche": (-7, 7),
    "woche davor": (-7, 7),
    "vortag": (-1, 1),
    "tag davor": (-1, 1),
    "go-live-tag": (0, 1),
    "go-live-nacht": (0, 1),
    "stichtag": (0, 1),
    "einführungstag": (0, 1),
    "umstellungstag": (0, 1),
    "umstellungsnacht": (0, 1),
    "folgetag": (1, 1),
    "tag danach": (1, 1),
}
ROLLBACK_ACTIONS = ("rollback", "zurückrollen", "zurücksetzen", "rückfall", "rückabwicklung")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = (
    "videokonferenz",
    "videocall",
    "telefonkonferenz",
    "kanal",
    "slack-kanal",
    "statusseite",
    "einwahl",
)

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "go-live-termin",
    "umstellung",
    "umstellungstermin",
    "umstellungszeitpunkt",
    "einführung",
    "produktivsetzung",
    "stichtag",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "rollback",
    "rückfall",
    "rückfallplan",
    "rücksetzung",
    "zurückrollen",
    "rückabwicklung",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = ("schritt",)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "mehr als",
    "länger als",
    "größer als",
    "über",
    "überschreitet",
    "oberhalb von",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "weniger als",
    "kleiner als",
    "unter",
    "unterhalb von",
)
