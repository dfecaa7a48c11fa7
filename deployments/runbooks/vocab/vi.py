"""Vietnamese words the importer understands."""

UNITS = {"tuần": "w", "ngày": "d", "giờ": "h", "tiếng": "h", "phút": "m"}
BEFORE = ("trước",)
AFTER = ("sau",)
DAY_WORDS = ("ngày",)
MINUS = ("trừ",)
PLUS = ("cộng",)
GATE = ("phê duyệt", "duyệt", "go/no-go", "điểm kiểm tra", "ký duyệt")
ROLLBACK_TRIGGERS = (
    "tiêu chí rollback",
    "điều kiện rollback",
    "điều kiện hoàn tác",
    "tiêu chí hoàn tác",
)
ROLLBACK_PLAN = (
    "kế hoạch rollback",
    "quy trình rollback",
    "kế hoạch hoàn tác",
    "các bước rollback",
)
TASK_HEADINGS = ("công việc", "nhiệm vụ", "các bước", "danh sách kiểm tra", "checklist")
OWNER_COLUMNS = ("người phụ trách", "phụ trách", "người thực hiện")
TASK_COLUMNS = ("công việc", "nhiệm vụ", "bước", "hạng mục")
WHEN_COLUMNS = ("thời gian", "thời hạn", "khi nào")
STATUS_COLUMNS = ("trạng thái",)
SIGNATURE_COLUMNS = ("chữ ký",)
TEAMS = ("vận hành", "hỗ trợ", "kiểm thử")
CONTACTS = ("liên hệ", "leo thang")
COLUMNS = {
    "chỉ số": "metric",
    "ngưỡng": "threshold",
    "hành động": "action",
    "xử lý": "action",
    "vai trò": "role",
    "tên": "name",
    "họ tên": "name",
    "điện thoại": "phone",
    "chữ ký": "signature",
    "ngày": "date",
}
ESCALATION = ("leo thang",)
WEEK_WORDS = ("tuần",)
NAMED_DAYS = {
    "tuần trước go-live": (-7, 7),
    "ngày hôm trước": (-1, 1),
    "ngày go-live": (0, 1),
    "đêm go-live": (0, 1),
    "ngày triển khai": (0, 1),
    "ngày hôm sau": (1, 1),
}
ROLLBACK_ACTIONS = ("rollback", "hoàn tác", "quay lui")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = ("cuộc gọi video", "kênh", "kênh slack", "trang trạng thái", "liên kết")
