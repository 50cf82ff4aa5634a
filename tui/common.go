package tui

import "time"

// common is what every screen shares: the size of the body it draws in, the styles, the key
// map and the clock reading. Screens hold a pointer to the one instance the root owns.
type common struct {
	styles Styles
	keys   KeyMap
	// now is the clock reading taken by the last Update (snapshot or tick). Views read only
	// this, never the clock, so a View is a pure function of the model.
	now   time.Time
	clock func() time.Time
	// readOnly says why the console offers no change ("" when it does): views that offer
	// an action (a finding's fix) say so instead. The root sets it with the chrome.
	readOnly string
}

func newCommon(clock func() time.Time, theme string) *common {
	if clock == nil {
		clock = time.Now
	}
	return &common{styles: ThemeStyles(theme), keys: DefaultKeyMap(), clock: clock, now: clock()}
}
