package inspect

import "testing"

func TestTrafficSelectorQuotes(t *testing.T) {
	for _, tc := range []struct{ group, api, want string }{
		{"default", "", `group="default",api!~"anm|apimgr"`},
		{"default", "payments", `group="default",api="payments"`},
		{`a"b\`, `x"}`, `group="a\"b\\",api="x\"}"`},
	} {
		if got := trafficSelector(tc.group, tc.api); got != tc.want {
			t.Errorf("trafficSelector(%q, %q) = %s, want %s", tc.group, tc.api, got, tc.want)
		}
	}
}
