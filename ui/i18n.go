package ui

// Lang is a user interface language. Vietnamese comes first; English second.
type Lang string

// The languages.
const (
	LangVI Lang = "vi"
	LangEN Lang = "en"
)

// messages holds every string of the pages, by language. A key missing in
// English falls back to Vietnamese; the test suite checks both are complete.
var messages = map[Lang]map[string]string{
	LangVI: {
		"title":                  "egovsoc — Trung tâm giám sát an toàn thông tin Chính phủ điện tử",
		"brand":                  "Trung tâm giám sát",
		"nation":                 "Toàn quốc",
		"organisations":          "Tổ chức",
		"organisation":           "Tổ chức",
		"events":                 "Sự kiện",
		"alerts":                 "Cảnh báo",
		"recent_alerts":          "Cảnh báo gần đây",
		"recent_events":          "Sự kiện gần đây",
		"time":                   "Thời gian",
		"severity":               "Mức độ",
		"rule":                   "Luật",
		"author":                 "Tác giả",
		"summary":                "Nội dung",
		"dataset":                "Nguồn dữ liệu",
		"status":                 "Trạng thái",
		"last_24h":               "24 giờ qua",
		"events_per_min":         "Sự kiện mỗi phút, 30 phút qua",
		"no_alerts":              "Chưa có cảnh báo.",
		"no_events":              "Chưa có sự kiện.",
		"pipeline":               "Luồng xử lý",
		"received":               "Đã nhận",
		"stored":                 "Đã lưu",
		"dead_letters":           "Bản ghi lỗi",
		"alerts_raised":          "Cảnh báo đã phát",
		"retries":                "Lần thử lại",
		"all":                    "Tất cả",
		"showing":                "Đang xem",
		"refresh":                "Tự làm mới mỗi 5 giây",
		"ministry":               "Bộ, ngành",
		"province":               "Tỉnh, thành phố",
		"agency":                 "Cơ quan",
		"severity.critical":      "Nghiêm trọng",
		"severity.high":          "Cao",
		"severity.medium":        "Trung bình",
		"severity.low":           "Thấp",
		"severity.informational": "Thông tin",
		"status.open":            "Mới",
		"status.acknowledged":    "Đã tiếp nhận",
		"status.closed":          "Đã đóng",
		"language":               "English",
	},
	LangEN: {
		"title":                  "egovsoc — e-Government Security Monitoring Centre",
		"brand":                  "Monitoring Centre",
		"nation":                 "Nationwide",
		"organisations":          "Organisations",
		"organisation":           "Organisation",
		"events":                 "Events",
		"alerts":                 "Alerts",
		"recent_alerts":          "Recent alerts",
		"recent_events":          "Recent events",
		"time":                   "Time",
		"severity":               "Severity",
		"rule":                   "Rule",
		"author":                 "Author",
		"summary":                "Summary",
		"dataset":                "Dataset",
		"status":                 "Status",
		"last_24h":               "last 24 hours",
		"events_per_min":         "Events per minute, last 30 minutes",
		"no_alerts":              "No alerts yet.",
		"no_events":              "No events yet.",
		"pipeline":               "Pipeline",
		"received":               "Received",
		"stored":                 "Stored",
		"dead_letters":           "Dead letters",
		"alerts_raised":          "Alerts raised",
		"retries":                "Retries",
		"all":                    "All",
		"showing":                "Showing",
		"refresh":                "Refreshes every 5 seconds",
		"ministry":               "Ministries",
		"province":               "Provinces and cities",
		"agency":                 "Agencies",
		"severity.critical":      "Critical",
		"severity.high":          "High",
		"severity.medium":        "Medium",
		"severity.low":           "Low",
		"severity.informational": "Informational",
		"status.open":            "Open",
		"status.acknowledged":    "Acknowledged",
		"status.closed":          "Closed",
		"language":               "Tiếng Việt",
	},
}

// T translates a key; an unknown key is returned as it is, so a gap shows.
func T(lang Lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	if s, ok := messages[LangVI][key]; ok {
		return s
	}
	return key
}
