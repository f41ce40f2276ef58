"""Long-running front doors: the HTTP API, MCP and the web page."""
