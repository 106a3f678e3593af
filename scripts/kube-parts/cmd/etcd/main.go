// etcd v3.6.5, the etcd server k8s.io/kubernetes v1.35.4 requires: upstream's server/main.go (its module
// replaces the other etcd modules with folders, so it is built from here, as kube-apiserver is).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
