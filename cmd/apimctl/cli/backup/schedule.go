package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdutil"
	"github.com/apimctl/apimctl/internal/format"
	"github.com/apimctl/apimctl/ops/dr"
	"github.com/apimctl/apimctl/ops/model"
)

// ScheduleOptions are schedule's flags.
type ScheduleOptions struct {
	Every       time.Duration
	At          string
	Keep        int
	UnitDir     string
	EnvFile     string
	NoEnable    bool
	CreateFlags // passed on to create
	Output      string
	install     bool
	cmdutil.Mutation
}

// NewCmdSchedule is `apimctl backup schedule`.
func NewCmdSchedule(f *cmdutil.Factory, loc *Location, runF func(context.Context, *ScheduleOptions) error) *cobra.Command {
	o := &ScheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule [--every 24h --at 03:00 --keep 7]",
		Short: "Show the backup schedule and the newest backup's age; with --every, install it (a systemd timer on this bastion)",
		Long: `Without --every, schedule shows the installed schedule, its next run, and the newest complete
backup of its location with its age — late when older than the schedule allows (one
interval plus a quarter of it, at least 30 minutes; 'apimctl check' says so as BKP-001).

With --every it installs the schedule: a systemd timer (apimctl-backup.timer, Persistent=true,
so a run missed while the bastion was down happens when it is up) and a service that runs
'apimctl backup create' with the flags given here and then 'apimctl backup prune --keep N'
(retention). The units are checked with systemd-analyze verify before they are written to
--unit-dir (/etc/systemd/system as root, else ~/.config/systemd/user), then enabled with
systemctl (--no-enable only writes them). Credentials the service needs beyond the
namespace's Secrets (AZURE_STORAGE_*) go in --env-file, read by systemd, never in the units.

Why a timer on the bastion rather than a Kubernetes CronJob: the bastion is where apimctl,
its kubeconfig, the age recipients and the location's credentials already are; a local
backup directory works as well as Azure; no apimctl image has to be built, pushed and given
cluster-wide read access and the data stores' passwords; and the backup runs from outside
the cluster it protects. A bastion that stops running it shows up as BKP-001.

Exit codes: 0 ok (shown: the newest backup is on time), 1 error, 2 bad input, 3 the newest
backup is late, 4 not permitted, 5 cancelled.`,
		Example: `  apimctl backup schedule --every 24h --at 03:00 --keep 7 --recipient age1… --events /mnt/events --yes
  apimctl backup schedule --location azure://backups/prod --every 6h --keep 28 --env-file /etc/apimctl/azure.env --yes
  apimctl backup schedule            # the schedule, the next run, the newest backup and its age`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(o, func(cmd *cobra.Command, args []string) error {
			o.install = cmd.Flags().Changed("every")
			if !o.install {
				for _, fl := range []string{"at", "keep", "unit-dir", "env-file", "no-enable", "recipient", "keyspace", "only", "events", "packages", "parallel", "consistency", "no-compress", "yes", "dry-run"} {
					if cmd.Flags().Changed(fl) {
						return cmdutil.Usagef("--%s installs a schedule: give --every too", fl)
					}
				}
			}
			if _, err := dr.Calendar(o.Every, o.At); o.install && err != nil {
				return cmdutil.Usagef("%v", err)
			}
			if o.Keep < 1 {
				return cmdutil.Usagef("--keep %d: keep at least one backup", o.Keep)
			}
			if o.EnvFile != "" && !filepath.IsAbs(o.EnvFile) {
				return cmdutil.Usagef("--env-file %s: an absolute path (systemd reads it)", o.EnvFile)
			}
			return cmdutil.ValidateOutput(o.Output)
		}, runF, func(ctx context.Context, o *ScheduleOptions) error {
			if o.install {
				return scheduleInstall(ctx, f, loc, o)
			}
			return scheduleShow(ctx, f, o)
		}),
	}
	fl := cmd.Flags()
	fl.DurationVar(&o.Every, "every", 24*time.Hour, "how often: 1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h or 168h (weekly, Sundays); installs the schedule")
	fl.StringVar(&o.At, "at", "03:00", "the first run of the day, HH:MM UTC")
	fl.IntVar(&o.Keep, "keep", 7, "retention: the complete backups kept after each run")
	fl.StringVar(&o.UnitDir, "unit-dir", "", "where the systemd units go (default /etc/systemd/system as root, else ~/.config/systemd/user)")
	fl.StringVar(&o.EnvFile, "env-file", "", "an environment file the service reads (credentials such as AZURE_STORAGE_CONNECTION_STRING_FILE)")
	fl.BoolVar(&o.NoEnable, "no-enable", false, "write the units but do not enable them with systemctl")
	o.CreateFlags.addFlags(cmd, false)
	o.AddFlags(cmd, "show the units that would be installed; install nothing")
	cmdutil.AddOutputFlag(cmd, &o.Output)
	return cmd
}

func scheduleInstall(ctx context.Context, f *cmdutil.Factory, loc *Location, o *ScheduleOptions) error {
	ios := f.IOStreams
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return err
	}
	conn, err := f.Connect(ctx)
	if err != nil {
		return err
	}
	// The runs use this very cluster and namespace, whatever the timer's environment.
	var global []string
	kubeconfig := f.Targets.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = f.Getenv("KUBECONFIG")
	}
	if kubeconfig != "" {
		if abs, err := filepath.Abs(kubeconfig); err == nil {
			global = append(global, "--kubeconfig", abs)
		}
	}
	if conn.Targets.Context != "" {
		global = append(global, "--context", conn.Targets.Context)
	}
	global = append(global, "-n", conn.Targets.Namespace)
	var create []string
	for _, r := range o.Recipients {
		create = append(create, "--recipient", r)
	}
	for _, k := range o.Keyspaces {
		create = append(create, "--keyspace", k)
	}
	if len(o.Only) > 0 {
		create = append(create, "--only", strings.Join(o.Only, ","))
	}
	for flag, dir := range map[string]string{"--events": o.Events, "--packages": o.Packages} {
		if dir != "" {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
				return cmdutil.Usagef("%s %s: not a directory", flag, dir)
			}
			create = append(create, flag, abs)
		}
	}
	if o.Parallel > 0 {
		create = append(create, "--parallel", fmt.Sprint(o.Parallel))
	}
	if o.Consistency != "" {
		create = append(create, "--consistency", o.Consistency)
	}
	if o.NoCompress {
		create = append(create, "--no-compress")
	}
	a, sched, err := dr.ScheduleAction(dr.ScheduleOptions{Every: o.Every, At: o.At, Keep: o.Keep, Global: global, Create: create,
		Location: loc.Root(f), Executable: exe, UnitDir: o.UnitDir, EnvFile: o.EnvFile, NoEnable: o.NoEnable, Getenv: f.Getenv, Now: f.Now})
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	_, dry, err := cmdutil.Act(ctx, f, a, o.Mode())
	if err != nil || dry {
		return err
	}
	fmt.Fprintf(ios.Out, "backups every %s from %s UTC into %s, keeping %d; next run %s\n", sched.Every, sched.At, sched.Location, sched.Keep,
		sched.NextRun(f.Now()).Format("2006-01-02 15:04 UTC"))
	return nil
}

// ScheduleDocument is schedule's JSON output.
type ScheduleDocument struct {
	Schedule          *dr.Schedule       `json:"schedule"`
	Next              *time.Time         `json:"next,omitempty"`
	Status            model.BackupStatus `json:"status"`
	Late              bool               `json:"late"`
	AllowedAgeSeconds float64            `json:"allowedAgeSeconds,omitempty"`
}

func scheduleShow(ctx context.Context, f *cmdutil.Factory, o *ScheduleOptions) error {
	ios := f.IOStreams
	now := f.Now()
	sched, err := dr.ReadSchedule(f.Getenv)
	if err != nil {
		return err
	}
	st := dr.BackupStatus(ctx, f.Getenv, now)
	late, allowed := st.Late(now)
	doc := ScheduleDocument{Schedule: sched, Status: st, Late: late, AllowedAgeSeconds: allowed.Seconds()}
	if sched != nil {
		next := sched.NextRun(now)
		doc.Next = &next
	}
	if o.Output != "table" {
		if err := cmdutil.WriteData(ios.Out, o.Output, doc); err != nil {
			return err
		}
	} else {
		if sched == nil {
			fmt.Fprintln(ios.Out, "schedule  none: backups are taken only by hand (install one with --every)")
		} else {
			fmt.Fprintf(ios.Out, "schedule  every %s from %s UTC (OnCalendar=%s), keep %d; next run %s\n", sched.Every, sched.At, sched.Calendar, sched.Keep,
				doc.Next.Format("2006-01-02 15:04 UTC"))
			fmt.Fprintf(ios.Out, "units     %s, %s in %s\n", dr.TimerUnit, dr.ServiceUnit, sched.UnitDir)
		}
		fmt.Fprintf(ios.Out, "location  %s\n", format.OrDash(st.Location))
		fmt.Fprintf(ios.Out, "newest    %s\n", st.Summary(now))
	}
	if st.Error != "" {
		return cmdutil.Failed(fmt.Errorf("backup location %s: %s", st.Location, st.Error), "check the location and its credentials")
	}
	if late {
		return cmdutil.Silent(cmdutil.ExitDegraded)
	}
	return nil
}
