// Command apigw is the API gateway runtime: traffic gateway, API Manager or Admin Node
// Manager, chosen with --role.
package main

import (
	"os"

	"github.com/apimctl/apimctl/gateway/server"
)

func main() { os.Exit(server.Main(os.Args[1:])) }
