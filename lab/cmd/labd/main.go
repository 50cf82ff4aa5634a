// Command labd holds the lab's own processes: the node agent that runs the gateways, the API
// backend and the background traffic generator. `apimctl lab up` builds it from the checkout
// and starts each as a lab component with a PID file.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/apimctl/apimctl/lab/agent"
	"github.com/apimctl/apimctl/lab/backend"
	"github.com/apimctl/apimctl/lab/traffic"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: labd agent|backend|traffic [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	switch os.Args[1] {
	case "agent":
		err = runAgent(ctx, os.Args[2:])
	case "backend":
		fs := flag.NewFlagSet("backend", flag.ExitOnError)
		listen := fs.String("listen", "127.0.0.1:16081", "loopback address to serve on")
		_ = fs.Parse(os.Args[2:])
		err = backend.Serve(ctx, *listen)
	case "traffic":
		err = runTraffic(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: agent, backend or traffic", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labd:", err)
		os.Exit(1)
	}
}

func runAgent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	var c agent.Config
	var nodes, repos, shared string
	fs.StringVar(&c.Kubeconfig, "kubeconfig", "", "the agent's kubeconfig")
	fs.StringVar(&c.Dir, "dir", "", "state directory")
	fs.StringVar(&nodes, "nodes", "", "comma-separated nodes to manage")
	fs.StringVar(&c.Apigw, "apigw", "", "apigw binary")
	fs.StringVar(&repos, "image-repos", "", "comma-separated image repositories that run apigw")
	fs.StringVar(&c.PodCIDR, "pod-cidr", "127.1.0.0/16", "loopback range of pod IPs")
	fs.StringVar(&c.FaultsFile, "faults", "", "faults file (image tag → fault)")
	fs.StringVar(&shared, "shared-volumes", "events", "emptyDir volumes shared by a namespace's pods")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:16250", "address of /healthz")
	fs.IntVar(&c.KubeletPortBase, "kubelet-port-base", 0, "serve each node's /metrics/resource on 127.0.0.1:base+i (0: off)")
	fs.StringVar(&c.KwokURL, "kwok-url", "", "kwok's server, which serves the pods' logs (http://127.0.0.1:port)")
	_ = fs.Parse(args)
	c.Nodes, c.ImageRepos, c.SharedVolumes = strings.Split(nodes, ","), strings.Split(repos, ","), strings.Split(shared, ",")
	c.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := agent.New(c)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func runTraffic(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("traffic", flag.ExitOnError)
	var o traffic.Options
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig")
	fs.StringVar(&o.Namespace, "namespace", "apim", "namespace")
	fs.StringVar(&o.Service, "service", "traffic", "traffic Service")
	fs.StringVar(&o.APIMgrService, "apimgr-service", "apimgr", "API Manager Service")
	tokenFile := fs.String("admin-token-file", "", "file holding the API Manager's admin token")
	fs.IntVar(&o.RPS, "rps", 50, "requests per second")
	fs.DurationVar(&o.Duration, "duration", 10*time.Minute, "how long")
	_ = fs.Parse(args)
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	o.Config = cfg
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		o.AdminToken = strings.TrimSpace(string(b))
	}
	o.Progress = func(f string, a ...any) { fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", a...) }
	s, err := traffic.Run(ctx, o)
	if err != nil {
		return err
	}
	s.Print(os.Stderr)
	return nil
}
