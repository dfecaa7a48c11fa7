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
WHEN_COLUMNS = ("cuándo", "cuando", "fecha", "plazo", "hora")
STATUS_COLUMNS = ("estado",)
SIGNATURE_COLUMNS = ("firma", "aprobado")
TEAMS = ("soporte", "operaciones", "seguridad", "desarrollo")
CONTACTS = ("contactos", "escalamiento", "escalada")
COLUMNS = {
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
