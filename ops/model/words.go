package model

import "fmt"

// Level grades a state for the front ends' symbols and colours.
type Level int

const (
	LevelOK Level = iota
	LevelBusy
	LevelWarn
	LevelBad
)

// State is a workload's state in a word ("ready", "rolling out", "paused", "scaled to 0",
// "down", "not ready"), a detail ("1/3 updated", "2 of 3"), and how it stands. The command
// line and the console both say it this way.
func (w Workload) State() (word, detail string, level Level) {
	switch {
	case w.Paused:
		return "paused", "", LevelWarn
	case w.RolloutInProgress:
		return "rolling out", fmt.Sprintf("%d/%d updated", w.Updated, w.Desired), LevelBusy
	case w.Desired == 0:
		return "scaled to 0", "", LevelWarn
	case w.Ready == 0:
		return "down", "", LevelBad
	case w.Ready < w.Desired:
		return "not ready", fmt.Sprintf("%d of %d", w.Desired-w.Ready, w.Desired), LevelWarn
	}
	return "ready", "", LevelOK
}
