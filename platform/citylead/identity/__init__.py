"""Identity: who is calling (token validation) and, on one machine, the embedded provider."""
