"""Image features and group statistics: comparing generated portfolios and real paintings."""
