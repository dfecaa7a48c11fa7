"""Japanese words the importer understands."""

UNITS = {"週間": "w", "週": "w", "日": "d", "時間": "h", "分": "m"}
BEFORE = ("前",)
AFTER = ("後",)
DAY_WORDS = ()
MINUS = ()
PLUS = ()
GATE = ("承認", "判定", "go/no-go", "チェックポイント", "サインオフ")
ROLLBACK_TRIGGERS = ("ロールバック基準", "ロールバック条件", "切り戻し基準", "切り戻し条件")
ROLLBACK_PLAN = ("ロールバック手順", "切り戻し手順", "ロールバック計画")
TASK_HEADINGS = ("タスク", "手順", "チェックリスト", "作業")
OWNER_COLUMNS = ("担当", "担当者", "責任者")
TASK_COLUMNS = ("タスク", "作業", "項目", "手順")
WHEN_COLUMNS = ("期限", "時刻", "タイミング", "日時")
STATUS_COLUMNS = ("状態", "ステータス")
SIGNATURE_COLUMNS = ("署名", "承認印")
TEAMS = ("運用", "開発", "品質保証", "サポート")
CONTACTS = ("連絡先", "エスカレーション")
COLUMNS = {
    "メトリクス": "metric",
    "指標": "metric",
    "閾値": "threshold",
    "しきい値": "threshold",
    "対応": "action",
    "アクション": "action",
    "役割": "role",
    "氏名": "name",
    "名前": "name",
    "電話": "phone",
    "メール": "email",
    "署名": "signature",
    "日付": "date",
}
ESCALATION = ("エスカレーション",)
WEEK_WORDS = ()
NAMED_DAYS = {
    "切替日当日": (0, 1),
    "切替当日": (0, 1),
    "切り替え当日": (0, 1),
    "移行当日": (0, 1),
    "本番当日": (0, 1),
    "切替日": (0, 1),
    "移行日": (0, 1),
    "リリース日": (0, 1),
    "メンテナンス当日": (0, 1),
    "前週": (-7, 7),
    "前日": (-1, 1),
    "リリース当日": (0, 1),
    "当日": (0, 1),
    "当日夜": (0, 1),
    "翌日": (1, 1),
}
ROLLBACK_ACTIONS = ("ロールバック", "切り戻し", "切戻し")
#: labels naming a place to meet or a link, never a role ("Video Call: [INSERT LINK]")
CHANNELS = ("ビデオ会議", "会議リンク", "チャンネル", "ステータスページ")

#: labels of a stated go-live time ("Go-live: 2026-03-14 22:00 CET")
GO_LIVE_LABELS = (
    "本番切替日時",
    "切替日時",
    "切り替え日時",
    "リリース日時",
    "移行日時",
    "本番リリース",
    "リリース",
    "切替",
)
#: a heading that is only this word is the rollback procedure ("## Rollback")
ROLLBACK_BARE = (
    "ロールバック",
    "切り戻し",
    "切戻し",
)
#: a heading "Step 3: X" is a task "X" inside a phase
STEP_WORDS = (
    "手順",
    "ステップ",
)
#: words that compare as ">" in a rollback criterion
MORE_THAN = (
    "超過",
    "を超える",
    "より大きい",
    "以上",
)
#: words that compare as "<" in a rollback criterion
LESS_THAN = (
    "未満",
    "を下回る",
    "より小さい",
    "以下",
)
