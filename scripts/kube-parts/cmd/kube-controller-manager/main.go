// kube-controller-manager v1.35.4: upstream's cmd/kube-controller-manager/controller-manager.go, with the same
// imports. The simulated cluster's controllers (harness/cluster.py): Deployments, ReplicaSets, StatefulSets,
// DaemonSets, EndpointSlices, the service-account tokens, the garbage collector, the disruption controller.
package main

import (
	"os"
	_ "time/tzdata" // for CronJob Time Zone support

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugin
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	command := app.NewControllerManagerCommand()
	code := cli.Run(command)
	os.Exit(code)
}
