// Command apimctl is the operations console of API management on Kubernetes.
package main

import (
	"os"

	"github.com/apimctl/apimctl/cmd/apimctl/cli"
)

func main() { os.Exit(cli.Main(cli.System(), os.Args[1:])) }
