"""Portuguese words the importer understands."""

UNITS = {
    "semanas": "w",
    "semana": "w",
    "dias": "d",
    "dia": "d",
    "horas": "h",
    "hora": "h",
    "minutos": "m",
    "minuto": "m",
}
BEFORE = ("antes",)
AFTER = ("depois", "após", "apos")
DAY_WORDS = ("dia",)
MINUS = ("menos",)
PLUS = ("mais",)
GATE = ("aprovação", "aprovacao", "aprovações", "ponto de controle", "go/no-go", "assinatura")
ROLLBACK_TRIGGERS = (
    "critérios de rollback",
    "criterios de rollback",
    "gatilhos de rollback",
    "critérios de reversão",
)
ROLLBACK_PLAN = (
    "plano de rollback",
    "procedimento de rollback",
    "plano de reversão",
    "passos de rollback",
)
TASK_HEADINGS = ("tarefas", "passos", "procedimento", "lista de verificação", "checklist")
OWNER_COLUMNS = ("responsável", "responsavel", "dono")
TASK_COLUMNS = ("tarefa", "passo", "atividade", "ação")
WHEN_COLUMNS = ("quando", "prazo", "data", "hora")
STATUS_COLUMNS = ("situação", "estado", "status")
SIGNATURE_COLUMNS = ("assinatura", "aprovado")
TEAMS = ("suporte", "operações", "segurança", "desenvolvimento")
CONTACTS = ("contatos", "escalonamento")
COLUMNS = {
    "métrica": "metric",
    "metrica": "metric",
    "limite": "threshold",
    "limiar": "threshold",
    "ação": "action",
    "acao": "action",
    "papel": "role",
    "função": "role",
    "nome": "name",
    "telefone": "phone",
    "assinatura": "signature",
    "data": "date",
    "substituto": "backup",
}
ESCALATION = ("escalonamento", "escalação")
WEEK_WORDS = ("semana",)
NAMED_DAYS = {
    "semana anterior": (-7, 7),
    "véspera": (-1, 1),
    "dia anterior": (-1, 1),
    "dia do go-live": (0, 1),
    "dia do lançamento": (0, 1),
    "noite do go-live": (0, 1),
    "dia d": (0, 1),
    "dia seguinte": (1, 1),
}
ROLLBACK_ACTIONS = ("rollback", "reverter", "reversão", "reversao")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = (
    "videochamada",
    "chamada",
    "canal",
    "canal do slack",
    "página de status",
    "sala de guerra",
    "link da chamada",
)
