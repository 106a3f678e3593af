"""CDK stacks and the stage that groups them. Stacks only compose constructs and wire them together."""
