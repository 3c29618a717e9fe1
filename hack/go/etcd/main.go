// etcd for the local cluster: `go install` cannot build etcd's own main (its go.mod has replace
// directives), so hack/build-tools builds this in a module that requires etcd's server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
