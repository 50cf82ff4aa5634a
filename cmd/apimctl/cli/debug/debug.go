package debug

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/ops/live"
	"github.com/apimctl/apimctl/ops/model"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/lab"
	"github.com/apimctl/apimctl/tui"
)

// The debug commands measure the console for `make bench`; they are hidden from help.
// NewCmdDebug is the hidden debug group.
func NewCmdDebug(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "debug", Short: "Measurements for make bench", Hidden: true}
	cmd.AddCommand(newFirstDashboardCmd(f), newConsoleProfileCmd(f), newFirstRowsCmd(f), newDrillProfileCmd(f))
	return cmd
}

// firstDashboard starts the live model and returns the first snapshot in which Kubernetes
// has synced and every source has answered: what the first complete dashboard shows.
func firstDashboard(ctx context.Context, f *cmdutil.Factory) (*live.Live, *live.Connection, model.Snapshot, error) {
	conn, err := f.Connect(ctx)
	if err != nil {
		return nil, nil, model.Snapshot{}, err
	}
	if conn.KubeErr != nil {
		return nil, nil, model.Snapshot{}, conn.KubeErr
	}
	l := live.NewLive(conn, live.LiveOptions{})
	l.Start(ctx)
	for s := range l.Updates() {
		if !s.Source(model.SourceKube).Synced {
			continue
		}
		answered := true
		for _, src := range s.Sources {
			answered = answered && (src.Synced || src.Error != "")
		}
		if answered {
			return l, conn, s, nil
		}
	}
	return nil, nil, model.Snapshot{}, fmt.Errorf("the live model stopped before the first complete dashboard: %w", ctx.Err())
}

func newFirstDashboardCmd(f *cmdutil.Factory) *cobra.Command {
	width, height := 160, 48
	return &cobra.Command{
		Use:   "first-dashboard",
		Short: "Exit after rendering the first complete dashboard (timed by make bench)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			_, _, s, err := firstDashboard(ctx, f)
			if err != nil {
				return err
			}
			frame := tui.NewFrame(s, "dashboard", width, height)
			fmt.Fprintln(f.IOStreams.Out, frame.Render())
			return nil
		},
	}
}

func newConsoleProfileCmd(f *cmdutil.Factory) *cobra.Command {
	var idle time.Duration
	var frames int
	var heapProfile string
	cmd := &cobra.Command{
		Use:   "console-profile",
		Short: "Resident memory after sync, pod-view frame time and LIST requests while idle",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			start := time.Now()
			_, conn, s, err := firstDashboard(ctx, f)
			if err != nil {
				return err
			}
			synced := time.Since(start)
			pods := 0
			for _, gr := range s.Topology.Groups {
				for _, w := range gr.Traffic {
					pods += len(w.Pods)
				}
				for _, w := range gr.APIManager {
					pods += len(w.Pods)
				}
			}
			rssSync := lab.ResidentKiB(os.Getpid())
			if heapProfile != "" {
				hf, err := os.Create(heapProfile)
				if err != nil {
					return err
				}
				runtime.GC()
				if err := pprof.WriteHeapProfile(hf); err != nil {
					return err
				}
				hf.Close()
			}
			// A frame of the pod view: every group's pods, scrolled a page each time.
			fr := tui.NewFrame(s, "pods", 160, 48)
			durs := make([]time.Duration, frames)
			for i := range durs {
				t := time.Now()
				_ = fr.Render()
				durs[i] = time.Since(t)
				fr.Scroll(40)
			}
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			var sum time.Duration
			for _, d := range durs {
				sum += d
			}
			lists := conn.Kube.Stats.List.Load()
			time.Sleep(idle)
			idleLists := conn.Kube.Stats.List.Load() - lists
			runtime.GC()
			out := map[string]any{
				"pods":                  pods,
				"syncSeconds":           synced.Seconds(),
				"rssAfterSyncMiB":       float64(rssSync) / 1024,
				"rssAfterIdleMiB":       float64(lab.ResidentKiB(os.Getpid())) / 1024,
				"podFrameMeanMillis":    float64(sum.Microseconds()) / float64(len(durs)) / 1000,
				"podFrameP99Millis":     float64(durs[len(durs)*99/100].Microseconds()) / 1000,
				"idleSeconds":           idle.Seconds(),
				"listRequestsWhileIdle": idleLists,
				"listRequestsTotal":     conn.Kube.Stats.List.Load(),
				"watchRequestsTotal":    conn.Kube.Stats.Watch.Load(),
			}
			return cmdutil.WriteData(f.IOStreams.Out, "json", out)
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", 10*time.Second, "how long to stay idle counting LIST requests")
	cmd.Flags().IntVar(&frames, "frames", 200, "pod-view frames to render")
	cmd.Flags().StringVar(&heapProfile, "heap-profile", "", "write a heap profile after sync to this file")
	return cmd
}
