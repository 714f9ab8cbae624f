"""HTTP API pieces shared by the handlers: callers and scopes, routers, caching."""
