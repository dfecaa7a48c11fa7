"""Chinese words the importer understands."""

UNITS = {
    "周": "w",
    "週": "w",
    "星期": "w",
    "天": "d",
    "日": "d",
    "小时": "h",
    "小時": "h",
    "分钟": "m",
    "分鐘": "m",
}
BEFORE = ("前",)
AFTER = ("后", "後")
LEAD_BEFORE = ("提前",)
DAY_WORDS = ()
MINUS = ()
PLUS = ()
GATE = ("审批", "審批", "签字", "签核", "上线决策", "go/no-go", "检查点")
ROLLBACK_TRIGGERS = ("回滚条件", "回滚标准", "回滚触发", "回退条件")
ROLLBACK_PLAN = ("回滚方案", "回滚步骤", "回滚计划", "回滚流程", "回退方案")
TASK_HEADINGS = ("任务", "步骤", "检查清单", "清单", "操作步骤")
OWNER_COLUMNS = ("负责人", "責任人", "负责")
TASK_COLUMNS = ("任务", "事项", "步骤", "检查项", "工作")
WHEN_COLUMNS = ("时间", "時間", "截止")
STATUS_COLUMNS = ("状态", "狀態")
SIGNATURE_COLUMNS = ("签字", "签名")
TEAMS = ("运维", "测试", "开发", "客服")
CONTACTS = ("联系人", "联系方式", "升级")
COLUMNS = {
    "指标": "metric",
    "阈值": "threshold",
    "动作": "action",
    "处理": "action",
    "措施": "action",
    "角色": "role",
    "姓名": "name",
    "电话": "phone",
    "電話": "phone",
    "邮箱": "email",
    "签字": "signature",
    "签名": "signature",
    "日期": "date",
}
ESCALATION = ("升级", "升級", "上报")
WEEK_WORDS = ()
NAMED_DAYS = {
    "切换日": (0, 1),
    "切换当天": (0, 1),
    "切换当晚": (0, 1),
    "发布当天": (0, 1),
    "发布当晚": (0, 1),
    "割接当天": (0, 1),
    "割接当晚": (0, 1),
    "上线之夜": (0, 1),
    "维护窗口": (0, 1),
    "上线前一周": (-7, 7),
    "前一周": (-7, 7),
    "上线前一天": (-1, 1),
    "前一天": (-1, 1),
    "上线当天": (0, 1),
    "上线当晚": (0, 1),
    "上线日": (0, 1),
    "上线后第一天": (1, 1),
    "次日": (1, 1),
}
ROLLBACK_ACTIONS = ("回滚", "回退")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = ("视频会议", "会议链接", "频道", "状态页", "作战室")

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "上线时间",
    "上线日期",
    "切换时间",
    "发布时间",
    "割接时间",
    "上线",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "回滚",
    "回退",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = ("步骤",)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "超过",
    "大于",
    "高于",
    "多于",
    "以上",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "低于",
    "小于",
    "少于",
    "不足",
)
