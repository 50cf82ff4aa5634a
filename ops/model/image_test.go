package model

import (
	"strings"
	"testing"
)

func TestNewImage(t *testing.T) {
	cur := "registry.example:5000/apim/gateway:7.7.1"
	for _, c := range []struct{ arg, want, err string }{
		{"7.7.2", "registry.example:5000/apim/gateway:7.7.2", ""},
		{"other.example/apim/gateway:8.0", "other.example/apim/gateway:8.0", ""},
		{"registry.example:5000/apim/gateway@sha256:" + strings.Repeat("a", 64), "registry.example:5000/apim/gateway@sha256:" + strings.Repeat("a", 64), ""},
		{"", "", "no image"},
		{"bad tag!", "", "invalid tag"},
		{"-x", "", "invalid tag"},
		{"UPPER/case:1", "", "invalid image"},
	} {
		got, err := NewImage(cur, c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %q, %v; want error %q", c.arg, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.arg, got, err, c.want)
		}
	}
	for current, want := range map[string]string{
		"apim/gateway:1": "apim/gateway:2", // spelled as the Deployment spells it
		"r:5000/a/b":     "r:5000/a/b:2",
		"r:5000/a/b@sha256:" + strings.Repeat("c", 64): "r:5000/a/b:2",
	} {
		if got, err := NewImage(current, "2"); err != nil || got != want {
			t.Errorf("%s + tag 2: %q %v, want %q", current, got, err, want)
		}
	}
	for img, tag := range map[string]string{"r:5000/a/b:1.2": "1.2", "r:5000/a/b": "", "a/b@sha256:" + strings.Repeat("b", 64): ""} {
		if got := ImageTag(img); got != tag {
			t.Errorf("ImageTag(%s) = %q, want %q", img, got, tag)
		}
	}
}
