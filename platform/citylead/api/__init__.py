"""The HTTP edge: app factory, problem responses, authentication and controllers."""
