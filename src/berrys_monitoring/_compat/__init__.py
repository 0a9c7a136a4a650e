"""The only home of other libraries' private names: one module per library.

Each module checks, once at import, that the library is laid out as it expects, and
otherwise falls back to the library's public API, so a release that moves a private name
costs speed, never correctness. ``tests/test_private_names.py`` fails if a module outside
this package reads a private name of another distribution.
"""
