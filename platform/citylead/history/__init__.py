"""Demo history (演示历史): months of realistic cases, planned, built and written (docs/history.md)."""
