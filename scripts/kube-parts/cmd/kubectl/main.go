// kubectl v1.35.4: upstream's cmd/kubectl/kubectl.go, with the same imports. The learner's path
// (docs/learn/) runs it against the sandbox's simulated cluster (tests/docs/test_learn_path.py).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Import to initialize client auth plugins.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// The verbosity flag parsed before the command is built, as upstream does (klog is used while the
	// command is constructed).
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Pretty-print the error and exit with an error.
		util.CheckErr(err)
	}
}
