"""cdk8s charts: what runs inside the cluster. The CDK stacks apply them with `add_cdk8s_chart`."""
