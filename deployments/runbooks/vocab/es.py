"""Spanish words the importer understands."""

UNITS = {
    "semanas": "w",
    "semana": "w",
    "días": "d",
    "día": "d",
    "dias": "d",
    "dia": "d",
    "horas": "h",
    "hora": "h",
    "minutos": "m",
    "minuto": "m",
}
BEFORE = ("antes",)
AFTER = ("después", "despues", "tras")
DAY_WORDS = ("día", "dia")
MINUS = ("menos",)
PLUS = ("más", "mas")
GATE = (
    "aprobación",
    "aprobacion",
    "aprobaciones",
    "punto de control",
    "go/no-go",
    "firma",
    "visto bueno",
)
ROLLBACK_TRIGGERS = (
    "criterios de rollback",
    "disparadores de rollback",
    "criterios de reversión",
    "criterios de reversion",
    "activadores de rollback",
)
ROLLBACK_PLAN = (
    "plan de rollback",
    "procedimiento de rollback",
    "plan de reversión",
    "procedimiento de reversión",
    "pasos de rollback",
)
TASK_HEADINGS = ("tareas", "pasos", "procedimiento", "lista de verificación", "checklist")
OWNER_COLUMNS = ("responsable", "dueño", "encargado")
TASK_COLUMNS = ("tarea", "paso", "actividad", "acción")
ACTIVITY_COLUMNS = ("actividad", "actividades")
WHEN_COLUMNS = ("cuándo", "cuando", "fecha", "plazo", "hora")
STATUS_COLUMNS = ("estado",)
SIGNATURE_COLUMNS = ("firma", "aprobado")
TEAMS = ("soporte", "operaciones", "seguridad", "desarrollo")
CONTACTS = ("contactos", "escalamiento", "escalada")
COLUMNS = {
    "métrica": "metric",
    "metrica": "metric",
    "umbral": "threshold",
    "acción": "action",
    "accion": "action",
    "rol": "role",
    "nombre": "name",
    "teléfono": "phone",
    "telefono": "phone",
    "correo": "email",
    "firma": "signature",
    "fecha": "date",
    "suplente": "backup",
}
ESCALATION = ("escalamiento", "escalado", "escalada")
WEEK_WORDS = ("semana",)
NAMED_DAYS = {
    "noche de salida": (0, 1),
    "día de puesta en producción": (0, 1),
    "día de la puesta en producción": (0, 1),
    "día del corte": (0, 1),
    "dia del corte": (0, 1),
    "noche del corte": (0, 1),
    "día de la migración": (0, 1),
    "noche de la migración": (0, 1),
    "día del go-live": (0, 1),
    "noche del go-live": (0, 1),
    "ventana de mantenimiento": (0, 1),
    "día de salida": (0, 1),
    "día de la salida": (0, 1),
    "semana anterior": (-7, 7),
    "semana previa": (-7, 7),
    "día anterior": (-1, 1),
    "dia anterior": (-1, 1),
    "víspera": (-1, 1),
    "día del lanzamiento": (0, 1),
    "día de lanzamiento": (0, 1),
    "noche del lanzamiento": (0, 1),
    "día d": (0, 1),
    "día siguiente": (1, 1),
    "dia siguiente": (1, 1),
}
ROLLBACK_ACTIONS = ("rollback", "revertir", "reversión", "marcha atrás", "volver atrás")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = (
    "videollamada",
    "llamada",
    "canal",
    "canal de slack",
    "página de estado",
    "sala de guerra",
    "enlace",
)

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "fecha de salida",
    "fecha del corte",
    "fecha de corte",
    "hora de salida",
    "salida a producción",
    "puesta en producción",
    "lanzamiento",
    "corte",
    "go-live",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "rollback",
    "reversión",
    "marcha atrás",
    "vuelta atrás",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = ("paso",)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "más de",
    "mas de",
    "mayor que",
    "mayor a",
    "superior a",
    "supera",
    "por encima de",
    "durante más de",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "menos de",
    "menor que",
    "menor a",
    "inferior a",
    "por debajo de",
)
