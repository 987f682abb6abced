"""Wire shapes of the REST API: msgspec Structs, one module per resource."""
