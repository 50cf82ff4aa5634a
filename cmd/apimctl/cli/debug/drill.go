package debug

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/inspect"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/tui"
)

// newFirstRowsCmd exits once the console's pods view has its first rows: Kubernetes synced,
// the pods drawn. `make bench-console` times it against `kubectl get pods`.
func newFirstRowsCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "first-rows",
		Short: "Exit after rendering the pods view's first rows (timed by make bench-console)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			conn, err := f.Connect(ctx)
			if err != nil {
				return err
			}
			if conn.KubeErr != nil {
				return conn.KubeErr
			}
			l := live.NewLive(conn, live.LiveOptions{})
			l.Start(ctx)
			for s := range l.Updates() {
				if s.Source(model.SourceKube).Synced {
					fmt.Fprintln(f.IOStreams.Out, tui.NewFrame(s, "pods", 160, 48).Render())
					return nil
				}
			}
			return fmt.Errorf("the live model stopped before Kubernetes synced: %w", ctx.Err())
		},
	}
}

// newDrillProfileCmd measures the drill-downs at the lab's scale: the time from enter on a
// pod to the frame with its detail and events (real reads through the inspector), a frame of
// the pod detail, and a log view holding --lines lines: its extra memory and its frames.
func newDrillProfileCmd(f *cmdutil.Factory) *cobra.Command {
	var opens, lines, frames int
	cmd := &cobra.Command{
		Use:   "drill-profile",
		Short: "Pod detail open time, log view memory and frame times (make bench-console)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			_, conn, s, err := firstDashboard(ctx, f)
			if err != nil {
				return err
			}
			ins := inspect.New(conn)
			// The console keeps the namespace's pod events in memory (its inspector's
			// Start): measure its memory and its first list, then the details with it.
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			t0 := time.Now()
			ins.Start(ctx)
			for {
				if _, ok := ins.PodEventsHeld(); ok || ctx.Err() != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			eventsSync := time.Since(t0)
			runtime.GC()
			runtime.ReadMemStats(&after)
			heldEvents, _ := ins.PodEventsHeld()
			names, gateway := podNames(s)
			if len(names) == 0 || gateway == "" {
				return fmt.Errorf("the snapshot has %d pods and no gateway pod to read a log from", len(names))
			}
			b := tui.NewDrillBench(s, ins, 160, 48)
			if _, _, err := b.OpenPod(gateway); err != nil { // warm: connections, caches
				return fmt.Errorf("open %s: %w", gateway, err)
			}
			var open []time.Duration
			for i := range opens {
				name := names[i*len(names)/opens]
				took, _, err := b.OpenPod(name)
				if err != nil {
					return fmt.Errorf("open %s: %w", name, err)
				}
				open = append(open, took)
			}
			if _, _, err := b.OpenPod(gateway); err != nil {
				return err
			}
			podFrame := timeFrames(frames, func() { _ = b.Render() })
			b.Close()

			sample, err := logSample(ctx, ins, gateway)
			if err != nil {
				return err
			}
			extra, lb := logViewMemory(sample, lines)
			lb.Follow(true)
			logFollow := timeFrames(frames, func() { _ = lb.Render() })
			matches := lb.Search("serving")
			logSearch := timeFrames(frames, func() { _ = lb.Render() })
			runtime.KeepAlive(lb)

			out := map[string]any{
				"pods":                 len(names),
				"podEvents":            heldEvents,
				"podEventsSyncSeconds": eventsSync.Seconds(),
				"podEventsHeapMiB":     float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20),
				"opens":                len(open),
				"openP50Millis":        ms(pct(open, 50)),
				"openP95Millis":        ms(pct(open, 95)),
				"openMaxMillis":        ms(pct(open, 100)),
				"podDetailFrameMillis": ms(mean(podFrame)),
				"logLines":             lb.Lines(),
				"logTextMiB":           float64(lb.Bytes()) / (1 << 20),
				"logExtraMiB":          float64(extra) / (1 << 20),
				"logSampleLines":       len(sample),
				"logFrameMillis":       ms(mean(logFollow)),
				"logFrameP99Millis":    ms(pct(logFollow, 99)),
				"logSearchMatches":     matches,
				"logSearchFrameMillis": ms(mean(logSearch)),
			}
			return cmdutil.WriteData(f.IOStreams.Out, "json", out)
		},
	}
	cmd.Flags().IntVar(&opens, "opens", 30, "pod details to open, spread over the pods")
	cmd.Flags().IntVar(&lines, "lines", 100_000, "lines to put in the log view")
	cmd.Flags().IntVar(&frames, "frames", 200, "frames to render of each view")
	return cmd
}

// podNames are the snapshot's pods, and a Ready gateway pod of the lab's own (not a scale pod:
// its log is a real process's).
func podNames(s model.Snapshot) (names []string, gateway string) {
	for _, g := range s.Topology.Groups {
		for _, wls := range [][]model.Workload{g.Traffic, g.APIManager} {
			for _, w := range wls {
				for _, p := range w.Pods {
					names = append(names, p.Name)
					if gateway == "" && g.Name != "scale" && p.Ready {
						gateway = p.Name
					}
				}
			}
		}
	}
	return names, gateway
}

// logSample is a lab gateway's real log, the lines the log view is filled with.
func logSample(ctx context.Context, ins *inspect.Inspector, pod string) ([]string, error) {
	var lines []string
	err := ins.Logs(ctx, model.LogRequest{Pod: pod}, func(l string) { lines = append(lines, l) })
	if err == nil && len(lines) == 0 {
		err = fmt.Errorf("the log of %s is empty", pod)
	}
	return lines, err
}

// logViewMemory fills a log view with n lines as a stream delivers them — each line its own
// allocation, in batches — and returns the live heap it added.
func logViewMemory(sample []string, n int) (int64, *tui.LogBench) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	lb := tui.NewLogBench(160, 48)
	batch := make([]string, 0, 16384)
	for i := range n {
		batch = append(batch, strings.Clone(sample[i%len(sample)]))
		if len(batch) == cap(batch) || i == n-1 {
			lb.Append(batch)
			batch = batch[:0]
		}
	}
	batch = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), lb
}

func timeFrames(n int, render func()) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		t := time.Now()
		render()
		out[i] = time.Since(t)
	}
	return out
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min((len(s)-1)*p/100, len(s)-1)]
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(max(len(d), 1))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
