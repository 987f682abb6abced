"""Litestar controllers: thin handlers over injected services.

Each handler reads its parameters, awaits a service (catalog, gateway,
probe) and returns a msgspec Struct; errors are raised as `ApiError` or
Interlace errors and rendered by the app's single exception handler.
"""
