# The body of Grafana's `POST /api/dashboards/db` for an importable dashboard (dist/dashboards/import/*.json):
# its data source inputs (`${DS_...}`) bound to the uid of your Prometheus or AMP data source, saved into
# the folder with uid $folder, replacing an earlier upload of the same dashboard uid (docs/architecture/grafana.md).
#   jq --arg datasource <data source uid> --arg folder <folder uid> -f scripts/dashboard-api-body.jq <file>
{
  dashboard: (
    del(.__inputs, .__elements, .__requires)
    | (.. | objects | select((.uid | type) == "string" and (.uid | startswith("${DS_"))) | .uid) |= $datasource
  ),
  overwrite: true,
  folderUid: $folder
}
