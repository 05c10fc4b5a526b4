"""``python -m cryptows``: the same as the ``cryptows`` console script."""

from __future__ import annotations

from cryptows.cli import main

if __name__ == "__main__":
    main()
