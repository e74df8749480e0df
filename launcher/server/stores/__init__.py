"""MLflow stores read without a server: schema, experiments, discovery, and moving a store."""
