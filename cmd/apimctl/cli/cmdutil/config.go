package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"sigs.k8s.io/yaml"
)

// Config is the user's defaults, from $APIMCTL_CONFIG, else ~/.config/apimctl/config.yaml
// ($XDG_CONFIG_HOME respected). Flags override it; it overrides the kubeconfig's current
// context. It holds no secret: passwords come from the environment or the Secrets.
type Config struct {
	// Contexts are the sites: the primary first, then the DR site ("context" for one).
	Context  string   `json:"context,omitempty"`
	Contexts []string `json:"contexts,omitempty"`
	// Namespace of the API management deployment.
	Namespace string `json:"namespace,omitempty"`
	// Refresh is how often the console polls Cassandra, MySQL and Prometheus ("5s").
	Refresh string `json:"refresh,omitempty"`
	// Theme is the console's palette: default, colorblind (blue/orange, safe for red-green
	// colour blindness) or mono (no colour, as NO_COLOR).
	Theme string `json:"theme,omitempty"`

	// Path is where it was read from ("" when there is no file).
	Path string `json:"-"`
}

// Themes the console knows.
var Themes = []string{"default", "colorblind", "mono"}

// ConfigPath is where the config file is looked for.
func ConfigPath(getenv func(string) string) string {
	if p := getenv("APIMCTL_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "apimctl", "config.yaml")
}

// LoadConfig reads the config file; a missing file is an empty config, a bad one a usage
// error naming the file and what is wrong.
func LoadConfig(getenv func(string) string) (Config, error) {
	p := ConfigPath(getenv)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", p, err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return Config{}, Usagef("config %s: %v", p, err)
	}
	c.Path = p
	if c.Context != "" && len(c.Contexts) > 0 {
		return Config{}, Usagef("config %s: give context or contexts, not both", p)
	}
	if c.Context != "" {
		c.Contexts = []string{c.Context}
	}
	if c.Refresh != "" {
		d, err := time.ParseDuration(c.Refresh)
		if err != nil || d < time.Second || d > 10*time.Minute {
			return Config{}, Usagef("config %s: refresh %q: a duration from 1s to 10m", p, c.Refresh)
		}
	}
	if c.Theme != "" && !slices.Contains(Themes, c.Theme) {
		return Config{}, Usagef("config %s: theme %q: one of %v", p, c.Theme, Themes)
	}
	return c, nil
}

// RefreshInterval is the configured refresh (0: the console's default).
func (c Config) RefreshInterval() time.Duration {
	d, _ := time.ParseDuration(c.Refresh)
	return d
}
