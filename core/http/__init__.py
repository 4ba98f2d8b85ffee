"""What stands between the network and the GraphQL schema: request limits, the JSON guard,
the server's protocol settings, response headers, CORS and metrics."""
