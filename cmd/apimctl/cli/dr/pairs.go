package dr

import (
	"strings"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
)

// pairs parses FROM=TO flag values.
func pairs(flag string, vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vals {
		from, to, ok := strings.Cut(v, "=")
		if !ok || from == "" || to == "" {
			return nil, cmdutil.Usagef("%s %q: FROM=TO", flag, v)
		}
		m[from] = to
	}
	return m, nil
}
