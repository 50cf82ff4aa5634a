package dr

import (
	"fmt"
	"sync"
	"time"

	"github.com/apimctl/apimctl/backup"
)

// progressLines turns the engines' progress (one report per finished unit, from several
// workers) into lines for people: one when a table is complete, and a running total at most
// every interval — a keyspace of hundreds of token-range units would otherwise print
// hundreds of lines.
type progressLines struct {
	say      func(string)
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	units   map[string]int
	rows    map[string]int64
	total   int64
	skipped int
	last    time.Time
}

func newProgressLines(say func(string)) *progressLines {
	return &progressLines{say: say, interval: 5 * time.Second, now: time.Now, units: map[string]int{}, rows: map[string]int64{}, last: time.Now()}
}

// report is the engines' Progress callback.
func (p *progressLines) report(pr backup.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := pr.Kind + " " + pr.Scope
	switch {
	case pr.Kind == "files":
		key = pr.Scope
	case pr.Table != "":
		key += "." + pr.Table
	}
	p.units[key]++
	p.rows[key] += pr.Rows
	p.total += pr.Rows
	if pr.Skipped {
		p.skipped++
	}
	now := p.now()
	switch {
	case pr.Kind != "files" && pr.Units > 0 && p.units[key] == pr.Units:
		line := fmt.Sprintf("%s: %d rows in %d units", key, p.rows[key], pr.Units)
		if p.skipped > 0 {
			line += fmt.Sprintf(" (%d units done by an earlier run)", p.skipped)
			p.skipped = 0
		}
		p.say(line)
		p.last = now
	case now.Sub(p.last) >= p.interval:
		what := "rows"
		if pr.Kind == "files" {
			what = "files"
		}
		p.say(fmt.Sprintf("%s: %d %s so far", key, p.rows[key], what))
		p.last = now
	}
}
