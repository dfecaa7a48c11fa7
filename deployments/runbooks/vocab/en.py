"""English words the importer understands."""

UNITS = {
    "weeks": "w",
    "week": "w",
    "wks": "w",
    "wk": "w",
    "w": "w",
    "days": "d",
    "day": "d",
    "d": "d",
    "hours": "h",
    "hour": "h",
    "hrs": "h",
    "hr": "h",
    "h": "h",
    "minutes": "m",
    "minute": "m",
    "mins": "m",
    "min": "m",
    "m": "m",
}
BEFORE = ("before", "prior", "ahead", "earlier", "out")
AFTER = ("after", "later")
DAY_WORDS = ("day", "d")
MINUS = ("minus",)
PLUS = ("plus",)
GATE = (
    "go/no-go",
    "go-no-go",
    "go / no-go",
    "go no go",
    "go/nogo",
    "checkpoint",
    "sign-off",
    "signoff",
    "sign off",
    "approval",
    "approvals",
)
ROLLBACK_TRIGGERS = (
    "rollback trigger",
    "rollback criteria",
    "roll back trigger",
    "roll back criteria",
    "rollback condition",
    "abort criteria",
    "when to roll back",
    "when to rollback",
    "rollback threshold",
)
ROLLBACK_PLAN = (
    "rollback procedure",
    "rollback plan",
    "rollback steps",
    "roll back procedure",
    "roll back plan",
    "rollback process",
    "back-out plan",
    "backout plan",
    "back out plan",
)
TASK_HEADINGS = (
    "tasks",
    "task list",
    "steps",
    "procedure",
    "checklist",
    "to do",
    "todo",
    "action items",
    "actions",
    "runbook steps",
)
OWNER_COLUMNS = ("owner", "responsible", "assignee", "assigned to", "who", "dri")
TASK_COLUMNS = ("task", "step", "action", "activity", "item", "check")
#: a task column word that, beside clock times, names a stretch of the day (a phase)
ACTIVITY_COLUMNS = ("activity", "activities")
WHEN_COLUMNS = ("when", "due", "time", "deadline", "timing")
STATUS_COLUMNS = ("status", "done", "state")
SIGNATURE_COLUMNS = ("signature", "signed", "sign-off", "approved")
TEAMS = (
    "qa",
    "support",
    "devops",
    "sre",
    "ops",
    "operations",
    "security",
    "dba",
    "database",
    "frontend",
    "backend",
    "marketing",
    "product",
    "infrastructure",
    "network",
    "platform",
    "mobile",
    "data",
    "legal",
    "finance",
    "customer success",
    "engineering",
    "release",
)
CONTACTS = ("contacts", "contact list", "on-call", "who to call", "key contacts")
COLUMNS = {"e-mail": "email", "mail": "email", "telephone": "phone", "tel": "phone"}
ESCALATION = ("escalation", "escalate")
WEEK_WORDS = ("week", "wk")
#: sections named after a day or week of the go-live: (offset in days, length in days)
NAMED_DAYS = {
    "day of cutover": (0, 1),
    "day of go-live": (0, 1),
    "day of the cutover": (0, 1),
    "night of the cutover": (0, 1),
    "go-live weekend": (0, 2),
    "release weekend": (0, 2),
    "upgrade night": (0, 1),
    "upgrade day": (0, 1),
    "maintenance window": (0, 1),
    "migration night": (0, 1),
    "migration day": (0, 1),
    "switchover night": (0, 1),
    "switchover day": (0, 1),
    "release night": (0, 1),
    "deployment night": (0, 1),
    "deployment day": (0, 1),
    "cutover weekend": (0, 2),
    "week before": (-7, 7),
    "the week before": (-7, 7),
    "day before": (-1, 1),
    "the day before": (-1, 1),
    "go-live day": (0, 1),
    "go live day": (0, 1),
    "launch day": (0, 1),
    "cutover day": (0, 1),
    "release day": (0, 1),
    "go-live night": (0, 1),
    "cutover night": (0, 1),
    "launch night": (0, 1),
    "day after": (1, 1),
    "the day after": (1, 1),
    "week after": (1, 7),
}
ROLLBACK_ACTIONS = ("rollback", "roll back", "rolled back", "revert", "back out", "backout")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = (
    "video call",
    "video conference",
    "conference call",
    "call link",
    "bridge",
    "conference bridge",
    "bridge line",
    "dial-in",
    "zoom",
    "zoom link",
    "google meet",
    "meet link",
    "teams meeting",
    "teams link",
    "slack channel",
    "slack",
    "channel",
    "chat",
    "status page",
    "dashboard",
    "link",
    "url",
    "wiki",
    "war room",
    "war room link",
    "runbook link",
)

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "go-live",
    "go live",
    "golive",
    "launch",
    "cutover",
    "release",
    "deployment",
    "t0",
    "t = 0",
    "switchover",
    "go-live date",
    "cutover date",
    "launch time",
    "maintenance window",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "rollback",
    "roll back",
    "roll-back",
    "back out",
    "backout",
    "rolling back",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = ("step",)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "more than",
    "greater than",
    "longer than",
    "exceeds",
    "exceeding",
    "above",
    "over",
    "at least",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "less than",
    "fewer than",
    "below",
    "under",
    "drops below",
    "falls below",
)
