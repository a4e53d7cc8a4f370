"""Standards that flow down (以市带县): layers, policies, versions and resolution."""
