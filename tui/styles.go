package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// tone is what a piece of text says about health. Every tone has a symbol as well as a colour
// (see symbol), so the screen reads the same under NO_COLOR and on monochrome terminals.
type tone int

const (
	toneNone tone = iota
	toneOK
	toneWarn
	toneBad
	toneMuted
	toneBusy // a rollout or a sync in progress
)

// symbol is the glyph that goes with a tone.
func (t tone) symbol() string {
	switch t {
	case toneOK:
		return "✓"
	case toneWarn:
		return "!"
	case toneBad:
		return "✗"
	case toneBusy:
		return "↻"
	case toneMuted:
		return "·"
	}
	return " "
}

// Styles are every style the console uses, in one place. The colours are the terminal's own
// 16 ANSI colours, so they follow the user's theme on light and dark backgrounds alike, and
// Bubble Tea downsamples or drops them for the terminal's colour profile (NO_COLOR included).
type Styles struct {
	AppName   lipgloss.Style
	HeaderKey lipgloss.Style
	HeaderVal lipgloss.Style
	ReadOnly  lipgloss.Style
	ReadWrite lipgloss.Style
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style

	PanelTitle lipgloss.Style
	PanelRule  lipgloss.Style
	Column     lipgloss.Style // table column headings
	Selected   lipgloss.Style // the table row under the cursor
	Label      lipgloss.Style // "cpu", "replicas" in detail views

	OK    lipgloss.Style
	Warn  lipgloss.Style
	Bad   lipgloss.Style
	Muted lipgloss.Style
	Busy  lipgloss.Style

	Prompt  lipgloss.Style
	Message lipgloss.Style
	Error   lipgloss.Style

	Help help.Styles
}

// DefaultStyles returns the console's styles.
func DefaultStyles() Styles {
	muted := lipgloss.NewStyle().Foreground(lipgloss.BrightBlack)
	h := help.Styles{
		ShortKey:       lipgloss.NewStyle().Foreground(lipgloss.Cyan),
		ShortDesc:      muted,
		ShortSeparator: muted,
		Ellipsis:       muted,
		FullKey:        lipgloss.NewStyle().Foreground(lipgloss.Cyan),
		FullDesc:       muted,
		FullSeparator:  muted,
	}
	return Styles{
		AppName:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Magenta),
		HeaderKey: muted,
		HeaderVal: lipgloss.NewStyle().Bold(true),
		ReadOnly:  lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Yellow),
		ReadWrite: muted,
		Tab:       muted,
		ActiveTab: lipgloss.NewStyle().Bold(true).Reverse(true),

		PanelTitle: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Cyan),
		PanelRule:  muted,
		Column:     lipgloss.NewStyle().Bold(true).Underline(true),
		Selected:   lipgloss.NewStyle().Reverse(true),
		Label:      muted,

		OK:    lipgloss.NewStyle().Foreground(lipgloss.Green),
		Warn:  lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		Bad:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Red),
		Muted: muted,
		Busy:  lipgloss.NewStyle().Foreground(lipgloss.Blue),

		Prompt:  lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Cyan),
		Message: lipgloss.NewStyle().Foreground(lipgloss.Cyan),
		Error:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Red),

		Help: h,
	}
}

// ThemeStyles returns the styles of a theme: "default" (the terminal's ANSI colours),
// "colorblind" (blue for good, orange for a warning, vermilion and bold for bad — the
// Okabe-Ito colours, told apart with red-green colour blindness) or "mono" (no colour at all:
// bold, underline and reverse only, as NO_COLOR gets). Symbols and words always carry the
// meaning; colour only repeats it.
func ThemeStyles(theme string) Styles {
	s := DefaultStyles()
	switch theme {
	case "colorblind":
		blue, orange, vermilion := lipgloss.Color("#0072B2"), lipgloss.Color("#E69F00"), lipgloss.Color("#D55E00")
		s.OK = lipgloss.NewStyle().Foreground(blue)
		s.Warn = lipgloss.NewStyle().Foreground(orange)
		s.Bad = lipgloss.NewStyle().Bold(true).Foreground(vermilion)
		s.Error = s.Bad
		s.ReadOnly = lipgloss.NewStyle().Bold(true).Foreground(orange)
		s.Busy = lipgloss.NewStyle().Foreground(lipgloss.Color("#56B4E9"))
	case "mono":
		plain := lipgloss.NewStyle()
		bold := plain.Bold(true)
		s.AppName, s.PanelTitle, s.Prompt, s.ReadOnly = bold, bold, bold, bold
		s.OK, s.Busy, s.Muted, s.Message, s.HeaderKey, s.Tab, s.PanelRule, s.Label, s.ReadWrite = plain, plain, plain, plain, plain, plain, plain, plain, plain
		s.Warn = plain.Underline(true)
		s.Bad, s.Error = bold, bold
		s.Help = help.Styles{ShortKey: bold, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain, FullKey: bold, FullDesc: plain, FullSeparator: plain}
	}
	return s
}

// tone returns the style for a tone.
func (s *Styles) tone(t tone) lipgloss.Style {
	switch t {
	case toneOK:
		return s.OK
	case toneWarn:
		return s.Warn
	case toneBad:
		return s.Bad
	case toneMuted:
		return s.Muted
	case toneBusy:
		return s.Busy
	}
	return lipgloss.Style{}
}

// status renders "✓ word" in the tone's colour: symbol and word, never colour alone.
func (s *Styles) status(t tone, word string) string {
	return s.tone(t).Render(t.symbol() + " " + word)
}

// paint renders text in the tone's colour without a symbol.
func (s *Styles) paint(t tone, text string) string {
	if t == toneNone || text == "" {
		return text
	}
	return s.tone(t).Render(text)
}
