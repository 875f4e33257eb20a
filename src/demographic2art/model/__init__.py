"""Base models: loading real pipelines from folders or hub ids, and the tiny offline model."""
