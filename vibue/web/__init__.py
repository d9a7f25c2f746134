"""The HTTP edge: app keys, middleware, the Endpoint table with its roles, pages, OpenAPI, health, config."""
