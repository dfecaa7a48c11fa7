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
ACTIVITY_COLUMNS = ("atividade", "atividades")
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
    "dia da entrada em produção": (0, 1),
    "noite do corte": (0, 1),
    "dia da virada": (0, 1),
    "noite da virada": (0, 1),
    "dia da migração": (0, 1),
    "noite da migração": (0, 1),
    "dia do corte": (0, 1),
    "janela de manutenção": (0, 1),
    "dia da implantação": (0, 1),
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

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "data de go-live",
    "data do go-live",
    "data da virada",
    "hora da virada",
    "data de implantação",
    "entrada em produção",
    "lançamento",
    "virada",
    "go-live",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "rollback",
    "reversão",
    "reversao",
    "retorno",
    "volta atrás",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = (
    "passo",
    "etapa",
)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "mais de",
    "maior que",
    "maior do que",
    "superior a",
    "acima de",
    "excede",
    "ultrapassa",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "menos de",
    "menor que",
    "menor do que",
    "inferior a",
    "abaixo de",
)
