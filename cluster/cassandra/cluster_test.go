package cassandra

import "testing"

func TestSameCluster(t *testing.T) {
	a := "apim/0b1c0000-0000-0000-0000-000000000001,0b1c0000-0000-0000-0000-000000000002,0b1c0000-0000-0000-0000-000000000003"
	for _, c := range []struct {
		b    string
		want bool
	}{
		{a, true},
		{"apim/0b1c0000-0000-0000-0000-000000000002", true},                                      // a peers table that lags
		{"apim/0b1c0000-0000-0000-0000-000000000003,0b1c0000-0000-0000-0000-000000000009", true}, // a node replaced
		{"apim/0b1c0000-0000-0000-0000-000000000009", false},                                     // another cluster, same name
		{"other/0b1c0000-0000-0000-0000-000000000001", false},                                    // another name
		{"apim/3f2a9c0d1e2b4a5c", false},                                                         // an older backup's hash
	} {
		if got := SameCluster(a, c.b); got != c.want || SameCluster(c.b, a) != c.want {
			t.Errorf("SameCluster(a, %q) = %v, want %v", c.b, got, c.want)
		}
	}
	if !SameCluster("apim/3f2a9c0d1e2b4a5c", "apim/3f2a9c0d1e2b4a5c") || SameCluster("apim/3f2a9c0d1e2b4a5c", "apim/0000000000000000") {
		t.Error("older IDs are compared whole")
	}
}
