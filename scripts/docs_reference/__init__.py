"""The docs site's generated reference pages (docs/reference/), one module per page, each built from the
same sources the platform renders from: the pages restate nothing by hand. scripts/docs_tables.py writes
them (`make docs-tables`); tests/docs checks the committed pages are what it writes now."""
