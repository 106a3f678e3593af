// Prometheus's plugins/plugins.go as upstream's `make plugins` generates it from a plugins.yml that lists
// only the Kubernetes discovery, the one the agent's configuration uses (file and HTTP discovery are always
// built in: plugins/minimum.go). scripts/go-tools.sh builds Prometheus from a copy of its module with this
// file in place of upstream's, which leaves out the cloud providers' SDKs and their build time; upstream's
// README ("Service discovery plugins") describes editing plugins.yml for the same purpose.

package plugins

import (
	// Register kubernetes plugin.
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
)
