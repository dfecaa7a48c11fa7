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
    "ngày chuyển đổi hệ thống": (0, 1),
    "ngày chuyển đổi": (0, 1),
    "đêm chuyển đổi": (0, 1),
    "đêm triển khai": (0, 1),
    "ngày phát hành": (0, 1),
    "cửa sổ bảo trì": (0, 1),
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

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "thời gian go-live",
    "ngày go-live",
    "thời điểm go-live",
    "thời gian triển khai",
    "ngày triển khai",
    "thời gian chuyển đổi",
    "go-live",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "rollback",
    "hoàn tác",
    "quay lui",
    "khôi phục",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = ("bước",)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "hơn",
    "trên",
    "quá",
    "vượt quá",
    "lớn hơn",
    "nhiều hơn",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "dưới",
    "ít hơn",
    "nhỏ hơn",
    "thấp hơn",
)
