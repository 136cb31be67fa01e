"""Gold: the dbt project's models as assets, dbt tests as asset checks, and when gold rebuilds."""
