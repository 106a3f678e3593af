"""The observability spec: one pure-Python source (no CDK imports) for what the platform scrapes, records,
alerts on and shows. The scrape config, the rule files, the dashboards and `make cost` all read it."""
