package inspect

import "testing"

func TestTrafficSelectorQuotes(t *testing.T) {
	for _, tc := range []struct{ ns, group, api, want string }{
		{"", "default", "", `group="default",api!~"anm|apimgr"`},
		{"apim", "default", "payments", `namespace="apim",group="default",api="payments"`},
		{`n"`, `a"b\`, `x"}`, `namespace="n\"",group="a\"b\\",api="x\"}"`},
	} {
		if got := trafficSelector(tc.ns, tc.group, tc.api); got != tc.want {
			t.Errorf("trafficSelector(%q, %q) = %s, want %s", tc.group, tc.api, got, tc.want)
		}
	}
}
