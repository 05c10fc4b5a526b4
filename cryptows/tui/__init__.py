"""The ``cryptows watch`` dashboard (Textual). The only package that may import textual.

Import :func:`cryptows.tui.factory.make_app` to build the app; :mod:`cryptows.tui.state` loads
and saves the dashboard's saved state without importing textual.
"""
